import { describe, expect, it } from 'vitest';
import { MIN_REPEATS, REPEAT_PROBE_RECORDS, repeatsPayOff } from './repeats.js';
import { SortBuffer } from './sort-buffer.js';

/** `n` lines with `distinct` distinct ones, the repeats spread evenly. */
function linesWithDistinct(n: number, distinct: number): string[] {
  return Array.from({ length: n }, (_, i) => `k${i % distinct}\t1`);
}

describe('repeat policy', () => {
  it('does not judge before the probe, then asks for MIN_REPEATS copies per distinct record', () => {
    expect(repeatsPayOff(REPEAT_PROBE_RECORDS - 1, REPEAT_PROBE_RECORDS / MIN_REPEATS)).toBe(true);
    expect(repeatsPayOff(100, 100)).toBe(true);
    const seen = REPEAT_PROBE_RECORDS * 2;
    expect(repeatsPayOff(seen, seen / MIN_REPEATS)).toBe(true);
    expect(repeatsPayOff(seen, seen / MIN_REPEATS + 1)).toBe(false);
    expect(repeatsPayOff(seen, seen)).toBe(false);
  });

  it('stops during the probe once it cannot pay off at the probe\'s end', () => {
    const certain = REPEAT_PROBE_RECORDS / MIN_REPEATS + 1;
    expect(repeatsPayOff(certain, certain)).toBe(false);
    expect(repeatsPayOff(REPEAT_PROBE_RECORDS - 1, certain)).toBe(false);
    // A sort buffer fed distinct lines stops counting at the first judgment past half the probe.
    const buffer = new SortBuffer({ numPartitions: 2 });
    buffer.add(linesWithDistinct(certain, certain), 0, 1 << 30);
    expect(buffer.counting).toBe(false);
  });

  it('judges a window that ended before the probe', () => {
    expect(repeatsPayOff(100, 100, true)).toBe(false);
    expect(repeatsPayOff(100, 100 / MIN_REPEATS, true)).toBe(true);
    // A sort buffer that fills with distinct lines before the probe stops counting at its spill.
    const buffer = new SortBuffer({ numPartitions: 2 });
    const lines = linesWithDistinct(1000, 1000);
    expect(buffer.add(lines, 0, 10_000)).toBeLessThan(lines.length);
    buffer.take();
    expect(buffer.counting).toBe(false);
  });

  it('is what the sort buffer follows', () => {
    const n = REPEAT_PROBE_RECORDS * 2;
    const keeps = new SortBuffer({ numPartitions: 2 });
    keeps.add(linesWithDistinct(n, n / MIN_REPEATS), 0, 1 << 30);
    expect(keeps.counting).toBe(true);
    const stops = new SortBuffer({ numPartitions: 2 });
    stops.add(linesWithDistinct(n, n / MIN_REPEATS + 1), 0, 1 << 30);
    expect(stops.counting).toBe(false);
  });
});
