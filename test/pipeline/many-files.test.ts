/**
 * 500 tiny input files: one map task each, output equals the reference. In a file of
 * its own so that it runs beside the other pipeline files instead of after them: each
 * map task costs about ten emulator round trips, so this is the slowest pipeline test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishJob, prng, randInt, reference, startJob, words } from '../helpers/pipeline.js';
import { sortedLines, TestStack } from '../helpers/stack.js';

describe('many input files', () => {
  let t: TestStack;
  beforeAll(async () => {
    // Slower heartbeats and sweeps than FAST_TIMINGS: less background load on the emulator for 500 tasks.
    t = await TestStack.start({ workers: 3, timings: { heartbeatMs: 1000, checkerIntervalMs: 1000 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('500 small files: one map task each, output equals the reference', { timeout: 480_000 }, async () => {
    const rand = prng(10);
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 500; i++) {
      files[`f-${String(i).padStart(3, '0')}.txt`] = Buffer.from(`${words(rand, 1)}\t${words(rand, randInt(rand, 0, 3))}\n`);
    }
    // Single-binary steps (no shell script): 500 map tasks cost 500 process spawns, nothing more.
    const run = await finishJob(
      t,
      await startJob(t, { name: 'many-files', files, mapper: 'cut -f1', reducer: 'uniq -c', extra: { numReducers: 2 } }),
      450_000,
    );
    expect(run.job.numMaps).toBe(500);
    expect(run.job.mapsCommitted).toBe(500);
    expect(run.job.counters['mapreduce.MAP_INPUT_RECORDS']).toBe(500);
    expect(run.parts).toHaveLength(2);
    expect(sortedLines(run.parts)).toEqual(sortedLines(reference(files, 'cut -f1', 'uniq -c')));
  });
});
