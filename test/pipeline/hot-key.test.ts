/**
 * A module reducer over one hot key: 2M values of one key reduce in bounded memory
 * (issue 13, streamed groups). The worker runs with a V8 heap of HEAP_MIB
 * (--max-old-space-size), in which those 2M values do not fit as an array (shown by a
 * plain Node process that collects them and dies), so a reduce that got them as an
 * array would crash the worker and the job would fail. The reduce attempt's peak RSS
 * is read from /proc too (VmHWM of the worker, reset with clear_refs when the reduce
 * task starts running) and logged. Facts, not timings.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishJob, startJob } from '../helpers/pipeline.js';
import { REPO, TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const HOT_KEY = path.join(REPO, 'test', 'fixtures', 'modules', 'hot_key.mjs');
const FANOUT = 1000; // pairs per input line, as in hot_key.mjs
const MIB = 1024 * 1024;
/** The worker's V8 old-space limit: the whole worker (SDK clients, merge, sort buffer index) lives in it. */
const HEAP_MIB = 64;
const BIG_LINES = 2000;

/** Peak resident set size of a process since its last reset, from /proc/<pid>/status (VmHWM). */
function peakRssBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

describe('streamed groups', () => {
  let t: TestStack;
  beforeAll(async () => {
    // One worker, so the reduce runs in the process we watch. A synchronous reduce call holds
    // the worker's event loop (heartbeats too) for the whole group, as documented in
    // worker/module-api.ts: the lease must outlast one call on a busy machine.
    t = await TestStack.start({
      workers: 1,
      timings: { heartbeatMs: 1000, missedHeartbeats: 60 },
      workerEnv: { NODE_OPTIONS: `--max-old-space-size=${HEAP_MIB}`, MR_SORT_BUFFER_BYTES: String(8 * MIB) },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** Run the hot-key job over `lines` input lines; returns its output and the reduce attempt's peak RSS. */
  async function hotKeyJob(name: string, lines: number): Promise<{ output: string; reducePeak: number; records?: number }> {
    const pid = t.stack.workerProcesses[0]!.pid!;
    const started = await startJob(t, {
      name,
      files: { 'n.txt': Buffer.from(Array.from({ length: lines }, (_, i) => `${i}\n`).join('')) },
      mapper: { module: 'hot_key.mjs' },
      reducer: { module: 'hot_key.mjs' },
      ship: [HOT_KEY],
      extra: { numReducers: 1, splitSize: 1024 },
    });
    await waitFor(
      'the reduce task to run',
      async () => {
        const [reduce] = await t.s.tasks.list(started.jobId, 'reduce');
        if (reduce?.status === 'COMMITTED') throw new Error('the reduce finished before its start was seen');
        return reduce?.status === 'RUNNING' ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // VmHWM := current RSS
    const run = await finishJob(t, started);
    return {
      output: Buffer.concat(run.parts).toString(),
      reducePeak: peakRssBytes(pid),
      records: run.job.counters['mapreduce.REDUCE_INPUT_RECORDS'],
    };
  }

  it(`the ${BIG_LINES * FANOUT} values do not fit in a ${HEAP_MIB} MiB heap as an array`, () => {
    // The values as the fixture makes them, collected into one array, in a process with the worker's heap limit.
    const collect = `const a = []; for (let i = 0; i < ${BIG_LINES * FANOUT}; i++) a.push(String(i).padStart(16, '0')); console.log(a.length);`;
    const r = spawnSync(process.execPath, [`--max-old-space-size=${HEAP_MIB}`, '-e', collect], { encoding: 'utf8' });
    expect(r.status, r.stdout).not.toBe(0);
    expect(r.stderr).toMatch(/heap out of memory/i);
  });

  it(`a module reduce over 2M values of one key gives the right result in a worker with a ${HEAP_MIB} MiB heap (and logs the reducer peak RSS)`, async () => {
    expect(readFileSync(`/proc/${t.stack.workerProcesses[0]!.pid!}/environ`, 'latin1')).toContain(`NODE_OPTIONS=--max-old-space-size=${HEAP_MIB}`);
    const expected = (n: number) => `hot\t${n}\t${(n * (n - 1)) / 2}\n`; // count, sum of 0..n-1 (exact below 2^53)
    const small = await hotKeyJob('hot-400k', 400);
    expect(small.output).toBe(expected(400 * FANOUT));
    const big = await hotKeyJob('hot-2m', BIG_LINES);
    expect(big.output).toBe(expected(BIG_LINES * FANOUT));
    expect(big.records).toBe(BIG_LINES * FANOUT);
    // The peak RSS is logged, not asserted: across CI runs the 2M job's peak was 2 to 70 MiB
    // above the 400k job's, so RSS (which also holds garbage V8 has not collected yet) does
    // not separate a streamed group from an array here; the heap limit above does.
    console.log(
      JSON.stringify({ reducePeakRssMiB400k: small.reducePeak / MIB, reducePeakRssMiB2M: big.reducePeak / MIB }),
    );
  });
});
