import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSplitPoints, compareKeys, samplingPlan, splitPoints, totalOrderPartition } from './total-order.js';

describe('samplingPlan', () => {
  it('reads at most maxSplitsSampled splits, spread over the input, numSamples in all', () => {
    expect(samplingPlan(100, 10_000, 10)).toEqual({ splitIndexes: [0, 10, 20, 30, 40, 50, 60, 70, 80, 90], recordsPerSplit: 1000 });
    expect(samplingPlan(3, 10_000, 10)).toEqual({ splitIndexes: [0, 1, 2], recordsPerSplit: 3333 });
    expect(samplingPlan(0)).toEqual({ splitIndexes: [], recordsPerSplit: 0 });
  });
});

describe('splitPoints', () => {
  it('takes R-1 keys at evenly spaced ranks of the sorted samples', () => {
    const samples = Array.from({ length: 100 }, (_, i) => `k${String(99 - i).padStart(2, '0')}`);
    expect(splitPoints(samples, 4)).toEqual(['k25', 'k50', 'k75']);
  });
  it('never repeats a point under skew: a hot key gets one point and the rank moves past it', () => {
    const samples = [...Array<string>(60).fill('hot'), ...Array.from({ length: 40 }, (_, i) => `z${i}`), 'a', 'b'];
    const points = splitPoints(samples, 4);
    checkSplitPoints(points);
    expect(points.filter((p) => p === 'hot')).toHaveLength(1);
  });
  it('gives fewer points when the samples have too few distinct keys', () => {
    expect(splitPoints(['x', 'x', 'x', 'x'], 4)).toEqual(['x']);
    expect(splitPoints([], 4)).toEqual([]);
  });
});

describe('totalOrderPartition', () => {
  const points = ['b', 'd', 'f'];
  it('routes by binary search; a key equal to a point goes to the partition above it', () => {
    expect(['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((k) => totalOrderPartition(k, points))).toEqual([0, 1, 1, 2, 2, 3, 3]);
    expect(totalOrderPartition('anything', [])).toBe(0);
  });
  it('compares bytes, not locale: upper case and 0xff sort as in LC_ALL=C', () => {
    expect(compareKeys('Z', 'a')).toBeLessThan(0);
    expect(totalOrderPartition('\xff', ['a', 'z'])).toBe(2);
  });
  it('concatenating the partitions of sorted keys gives the sorted keys (any keys, any samples)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'Z', '\t', '\xe9') }), { minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 8 }),
        (keys, r) => {
          const points = splitPoints(keys.slice(0, 50), r);
          checkSplitPoints(points);
          const parts: string[][] = Array.from({ length: r }, () => []);
          for (const k of keys) parts[totalOrderPartition(k, points)]!.push(k);
          const concatenated = parts.flatMap((p) => [...p].sort(compareKeys));
          expect(concatenated).toEqual([...keys].sort(compareKeys));
          // One key, one partition.
          for (const k of keys) expect(parts.filter((p) => p.includes(k))).toHaveLength(1);
        },
      ),
    );
  });
});

describe('checkSplitPoints', () => {
  it('refuses repeated or unordered points', () => {
    expect(() => checkSplitPoints(['a', 'a'])).toThrow(/out of order or repeated/);
    expect(() => checkSplitPoints(['b', 'a'])).toThrow(RangeError);
    expect(() => checkSplitPoints(['a', 'b'])).not.toThrow();
  });
});
