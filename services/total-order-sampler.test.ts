import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { computeSplits } from '../core/splits.js';
import { samplingPlan } from '../core/total-order.js';
import type { Services } from './context.js';
import { inputKeyOf, SAMPLE_HEAD_BYTES, sampleSplitPoints } from './total-order-sampler.js';

describe('inputKeyOf', () => {
  it('is the text before the first tab, or the whole line (what an identity streaming mapper keys on)', () => {
    expect(inputKeyOf('k\tv\tw')).toBe('k');
    expect(inputKeyOf('no tab')).toBe('no tab');
    expect(inputKeyOf('\tv')).toBe('');
  });
});

describe('sampleSplitPoints', () => {
  // One 8 MiB object of lines `k<6 digits>\t<padding>` in key order, held in memory; ranged reads are recorded.
  const lines: string[] = [];
  for (let i = 0; lines.length * 100 < 8 * 1024 * 1024; i++) lines.push(`k${String(i).padStart(6, '0')}\t${'x'.repeat(91)}`);
  const body = Buffer.from(`${lines.join('\n')}\n`, 'latin1');
  const reads: [number, number][] = [];
  const s = {
    inputs: {
      getRange: (_b: string, _k: string, start: number, end: number) => {
        reads.push([start, end]);
        return Promise.resolve(Readable.from([body.subarray(start, end)]));
      },
    },
  } as unknown as Services;
  const splits = computeSplits([{ bucket: 'in', key: 'data.tsv', size: body.length }], { splitSize: 512 * 1024 });

  it('reads only the heads of a bounded number of splits, spread over the input, and gives R−1 increasing points', async () => {
    reads.length = 0;
    const points = await sampleSplitPoints(s, splits, 4, { numSamples: 4000, maxSplitsSampled: 4 });
    expect(samplingPlan(splits.length, 4000, 4).splitIndexes).toEqual([0, 4, 8, 12]);
    expect(points).toHaveLength(3);
    // Sampled splits 0, 4, 8, 12 (spread over the input), 1,000 records each: the points are the first
    // keys of splits 4, 8 and 12 (100-byte lines; a split owns the lines that start in it).
    const firstKey = (i: number) => `k${String(Math.ceil(splits[i]!.start / 100)).padStart(6, '0')}`;
    expect(points).toEqual([firstKey(4), firstKey(8), firstKey(12)]);
    // Only split heads were read: every range starts near a sampled split's start, and ~100 KB each.
    const starts = [0, 4, 8, 12].map((i) => splits[i]!.start);
    for (const [start] of reads) expect(starts.some((st) => start >= st - 1 && start < st + SAMPLE_HEAD_BYTES)).toBe(true);
    const bytes = reads.reduce((n, [start, end]) => n + end - start, 0);
    expect(bytes).toBeLessThanOrEqual(4 * SAMPLE_HEAD_BYTES);
  });
});
