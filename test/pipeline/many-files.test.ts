/**
 * 2,000 one-line input objects, R = 4: one map task each, and every part file equals,
 * byte for byte, `sort | uniq -c` over the keys of its partition. In a file of its own so
 * that it runs beside the other pipeline files: it is the slowest pipeline test. Before the
 * emulator patches (aws/moto-patches.ts) such a job did not even finish planning in minutes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { partitionOf } from '../../core/partition.js';
import { finishJob, prng, startJob, words } from '../helpers/pipeline.js';
import { TestStack, unixPipeline } from '../helpers/stack.js';

const OBJECTS = 2000;
const R = 4;

describe('many input objects', () => {
  let t: TestStack;
  beforeAll(async () => {
    // The deployment's heartbeats (2 s, a 10 s lease) and slower sweeps than FAST_TIMINGS: less
    // background load on the emulator for 2,000 tasks, and a lease that outlives one request
    // stalled for the SDK's 10 s timeout (a fresh-clone run at load 16 lost four reduce
    // attempts' 5 s leases that way while 3 reducers fetched 2,000 slices each).
    t = await TestStack.start({ workers: 3, timings: { heartbeatMs: 2000, checkerIntervalMs: 1000 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it(`${OBJECTS} one-line objects: one map task each, each part equals the reference`, { timeout: 1_900_000 }, async () => {
    const rand = prng(10);
    // 300 distinct keys: groups of several values, every partition non-empty.
    const vocab = Array.from({ length: 300 }, (_, i) => `k${i.toString(36)}`);
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < OBJECTS; i++) {
      files[`f-${String(i).padStart(4, '0')}.txt`] = Buffer.from(`${words(rand, 1, vocab)}\t${words(rand, 2)}\n`);
    }
    // Single-binary steps (no shell script): 2,000 map tasks cost 2,000 process spawns, nothing more.
    const run = await finishJob(
      t,
      await startJob(t, { name: 'many-files', files, mapper: 'cut -f1', reducer: 'uniq -c', extra: { numReducers: R } }),
      1_800_000,
    );
    const seconds = (Date.parse(run.job.finishedAt ?? '') - Date.parse(run.job.createdAt)) / 1000;
    console.log(`[many-files] ${OBJECTS} objects, R = ${R}: created -> SUCCEEDED in ${seconds} s`);
    expect(run.job.numMaps).toBe(OBJECTS);
    expect(run.job.mapsCommitted).toBe(OBJECTS);
    expect(run.job.counters['mapreduce.MAP_INPUT_RECORDS']).toBe(OBJECTS);
    // The reference of part r: the keys the framework's partitioner sends to r, sorted, counted.
    const keysOf = Array.from({ length: R }, () => [] as string[]);
    for (const body of Object.values(files)) {
      const key = body.toString('latin1').split('\t')[0] as string;
      keysOf[partitionOf(key, R)]!.push(key);
    }
    const expected = keysOf.map((keys) => unixPipeline(Buffer.from(keys.map((k) => `${k}\n`).join(''), 'latin1'), 'cat', 'uniq -c'));
    expect(run.parts).toHaveLength(R);
    for (let r = 0; r < R; r++) {
      expect(expected[r]!.length).toBeGreaterThan(0);
      expect(run.parts[r]!.equals(expected[r]!), `part ${r} differs from the reference`).toBe(true);
    }
  });
});
