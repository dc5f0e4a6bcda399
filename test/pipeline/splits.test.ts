/**
 * How input becomes map tasks: one file cut into many splits with lines straddling
 * the boundaries (each line read exactly once), and map-only jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  finishJob,
  prng,
  randInt,
  reference,
  referenceInput,
  startJob,
  WC_MAP,
  words,
} from '../helpers/pipeline.js';
import { sortedLines, TestStack } from '../helpers/stack.js';

const INPUT_RECORDS = 'mapreduce.MAP_INPUT_RECORDS';

describe('splits and map-only jobs', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 3 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('one file cut into 100-byte splits: lines straddling boundaries are read exactly once', async () => {
    const rand = prng(11);
    const lines: string[] = [
      'a'.repeat(99), // its '\n' is byte 99: the next line starts exactly at split 1's first byte
      'b'.repeat(100), // its '\n' is byte 200, the first byte of split 2
      'c'.repeat(250), // spans splits 2..4 entirely
      '',
      '',
    ];
    for (let i = 0; i < 120; i++) {
      lines.push(
        rand() < 0.1 ? '' : `${String(i).padStart(4, '0')}\t${words(rand, randInt(rand, 0, 12))}`.slice(0, randInt(rand, 1, 160)),
      );
    }
    const body = Buffer.from(`${lines.join('\n')}\n`);
    expect(body.subarray(99, 100).toString()).toBe('\n');
    expect(body.subarray(200, 201).toString()).toBe('\n');
    const files = { 'one.txt': body };
    // The same lines in a file that ends without '\n', cut by numMappers instead.
    const noFinal = { 'two.txt': body.subarray(0, body.length - 1) };
    const started = await Promise.all([
      startJob(t, { name: 'split-id', files, mapper: 'cat', reducer: 'cat', extra: { splitSize: 100, numReducers: 2 } }),
      startJob(t, { name: 'split-n', files: noFinal, mapper: 'cat', reducer: 'cat', extra: { numMappers: 7 } }),
    ]);
    const [id, byCount] = await Promise.all(started.map((j) => finishJob(t, j)));
    expect(id!.job.numMaps).toBe(Math.ceil(body.length / 100));
    expect(id!.job.counters[INPUT_RECORDS]).toBe(lines.length);
    expect(sortedLines(id!.parts)).toEqual(sortedLines(reference(files, 'cat', 'cat')));
    expect(Buffer.concat(id!.parts).length).toBe(body.length);
    expect(byCount!.job.numMaps).toBe(7);
    expect(byCount!.job.counters[INPUT_RECORDS]).toBe(sortedLines(noFinal['two.txt']).length);
    expect(sortedLines(byCount!.parts)).toEqual(sortedLines(referenceInput(noFinal)));
  });

  it('map-only jobs: output is the mapper output, one part per map task', async () => {
    const rand = prng(12);
    const files = {
      'a.txt': Buffer.from(`${Array.from({ length: 60 }, () => words(rand, 5)).join('\n')}\n`),
      'b.txt': Buffer.from(Array.from({ length: 30 }, () => `${words(rand, 1)}\t${words(rand, 3)}`).join('\n')),
    };
    const started = await Promise.all([
      startJob(t, { name: 'maponly-wc', files, mapper: 'wc_map.sh', ship: [WC_MAP], extra: { splitSize: 500 } }),
      startJob(t, { name: 'maponly-cut', files, mapper: 'cut -f2' }),
    ]);
    const [wc, cut] = await Promise.all(started.map((j) => finishJob(t, j)));
    const sizes = Object.values(files).map((b) => b.length);
    const expectedMaps = sizes.reduce((n, s) => n + Math.ceil(s / 500), 0);
    expect(wc!.job.numReduces).toBe(0);
    expect(wc!.job.numMaps).toBe(expectedMaps);
    expect(wc!.parts).toHaveLength(expectedMaps);
    expect(sortedLines(wc!.parts)).toEqual(sortedLines(reference(files, WC_MAP)));
    expect(cut!.job.numMaps).toBe(2);
    expect(cut!.parts).toHaveLength(2);
    // Map-only output is not sorted: each part is its file's `cut -f2`, in input order.
    expect(cut!.parts[0]?.equals(reference({ 'a.txt': files['a.txt'] }, 'cut -f2'))).toBe(true);
    expect(cut!.parts[1]?.equals(reference({ 'b.txt': files['b.txt'] }, 'cut -f2'))).toBe(true);
    expect(await t.blobs.head(t.bucket, 'out/maponly-cut/_SUCCESS')).toBeDefined();
  });

  it('the largest split is sent first: its map task starts before any other map commits', async () => {
    // Key order puts the large object last; with 3 workers and 5 maps it would wait for a free worker.
    const rand = prng(13);
    const text = (n: number) => Buffer.from(`${Array.from({ length: n }, () => words(rand, 6)).join('\n')}\n`);
    const files = { 'a.txt': text(5), 'b.txt': text(5), 'c.txt': text(5), 'd.txt': text(5), 'z.txt': text(400) };
    const started = await startJob(t, { name: 'largest-first', files, mapper: 'cat', reducer: 'cat', extra: { numReducers: 1 } });
    const done = await finishJob(t, started);
    expect(sortedLines(done.parts)).toEqual(sortedLines(reference(files, 'cat', 'cat')));
    const maps = await t.s.tasks.list(started.jobId, 'map');
    const largest = maps.find((m) => m.split?.key.endsWith('z.txt'));
    expect(largest?.taskId).toBe('m-00004');
    const firstCommit = Math.min(...maps.filter((m) => m !== largest).map((m) => m.committedAt ?? Number.POSITIVE_INFINITY));
    expect(largest!.claimedAt).toBeLessThan(firstCommit);
  });
});
