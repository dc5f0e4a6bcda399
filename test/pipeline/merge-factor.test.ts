/**
 * The reduce merge reads at most `sortFactor` slices at once (issue 13, bounded reduce
 * merge): a reducer merging 16 map outputs with a factor of 4 merges in passes through
 * local disk, gives output byte-identical to a clean run (default factor), and keeps
 * few files open: the merge's own count (a counter, REDUCE_MERGE_MAX_OPEN_FILES) and
 * the worker's descriptors read from /proc/<pid>/fd every 5 ms during the reduce (the
 * worker's /proc/self/fd; not a counter, since descriptor counts vary run to run and
 * counters are compared across runs by the fault tests).
 */
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SORT_FACTOR } from '../../core/merge-passes.js';
import { Counters, counterKey, FRAMEWORK } from '../../core/reporter.js';
import { finishJob, prng, startJob } from '../helpers/pipeline.js';
import { TestStack } from '../helpers/stack.js';

const MAPS = 16;
/** Above the fetcher's in-memory limit (1 MiB), so every slice is a file. */
const SPLIT = 1200 * 1024;
const FACTOR = 4;
const counter = (name: string) => counterKey(FRAMEWORK, name);

describe('bounded reduce merge', () => {
  let t: TestStack;
  let input: Buffer;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 1, timings: { heartbeatMs: 1000, missedHeartbeats: 30 } });
    // 100-byte records over 500 keys: many ties across maps, and `cat` keeps their order.
    const rand = prng(13);
    const lines: string[] = [];
    for (let i = 0; lines.length * 100 < MAPS * SPLIT - 100; i++) {
      lines.push(`key${String(Math.floor(rand() * 500)).padStart(4, '0')}\t${String(i).padStart(92, '.')}`);
    }
    input = Buffer.from(`${lines.join('\n')}\n`);
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** Run cat | sort | cat with the given factor; the output and the most descriptors the worker added during the reduce. */
  async function run(name: string, sortFactor?: number) {
    const pid = t.stack.workerProcesses[0]!.pid!;
    const fds = () => readdirSync(`/proc/${pid}/fd`).length;
    const started = await startJob(t, {
      name,
      files: { 'in.txt': input },
      mapper: 'cat',
      reducer: 'cat',
      extra: { numReducers: 1, splitSize: SPLIT, ...(sortFactor ? { sortFactor } : {}) },
    });
    // The reduce task's state is polled from DynamoDB (slow); the worker's descriptors are read
    // every few ms from its /proc/<pid>/fd (the directory the worker sees as /proc/self/fd), so
    // short peaks are not missed. Baseline: while no reduce runs; peak: while it runs.
    let base = Number.POSITIVE_INFINITY;
    let peak = 0;
    let reduceStatus: string | undefined;
    let sampling = true;
    const poller = (async () => {
      while (sampling) {
        reduceStatus = (await t.s.tasks.list(started.jobId, 'reduce'))[0]?.status;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const fdTimer = setInterval(() => {
      const n = fds();
      if (reduceStatus === 'RUNNING') peak = Math.max(peak, n);
      else if (reduceStatus !== 'COMMITTED') base = Math.min(base, n);
    }, 5);
    const done = await finishJob(t, started, 300_000);
    sampling = false;
    clearInterval(fdTimer);
    await poller;
    return { done, output: Buffer.concat(done.parts), addedFds: peak - base };
  }

  it(`merging ${MAPS} map outputs with factor ${FACTOR} gives the clean run's bytes with few files open`, async () => {
    const bounded = await run('merge-f4', FACTOR);
    const clean = await run('merge-default');
    const maps = bounded.done.job.numMaps;
    expect(maps).toBeGreaterThanOrEqual(MAPS);
    expect(clean.done.job.numMaps).toBe(maps);
    expect(bounded.output.equals(clean.output)).toBe(true);
    expect(bounded.output.length).toBe(input.length);
    const b = bounded.done.job.counters;
    const c = clean.done.job.counters;
    console.log(
      JSON.stringify({
        factor4: { merges: b[counter(Counters.REDUCE_INTERMEDIATE_MERGES)], maxOpenFiles: b[counter(Counters.REDUCE_MERGE_MAX_OPEN_FILES)], addedFds: bounded.addedFds },
        factorDefault: { merges: c[counter(Counters.REDUCE_INTERMEDIATE_MERGES)], maxOpenFiles: c[counter(Counters.REDUCE_MERGE_MAX_OPEN_FILES)], addedFds: clean.addedFds },
      }),
    );
    expect(b[counter(Counters.REDUCE_INTERMEDIATE_MERGES)]).toBeGreaterThan(0);
    expect(b[counter(Counters.REDUCE_MERGE_MAX_OPEN_FILES)]).toBeLessThanOrEqual(FACTOR);
    expect(c[counter(Counters.REDUCE_INTERMEDIATE_MERGES) ] ?? 0).toBe(0);
    // The clean run reads every on-disk slice at once (a small last split's slice is held in memory).
    expect(maps).toBeLessThan(DEFAULT_SORT_FACTOR);
    expect(c[counter(Counters.REDUCE_MERGE_MAX_OPEN_FILES)]).toBeGreaterThanOrEqual(MAPS - 1);
    // From /proc: the clean run's reducer holds every slice file at once (the sampler sees that
    // O(M) peak), the bounded one never does: fetch and merge each hold ≤ FACTOR files (plus as
    // many sockets while fetching, and the reducer's pipes).
    expect(clean.addedFds).toBeGreaterThanOrEqual(MAPS - 1);
    expect(bounded.addedFds).toBeLessThan(maps);
    expect(bounded.addedFds).toBeLessThan(clean.addedFds);
  });
});
