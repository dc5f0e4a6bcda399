import { describe, expect, it } from 'vitest';
import { mulberry32 } from './prng.js';
import { EARLY_JUDGE_MARGIN, EARLY_JUDGE_RECORDS, MIN_REPEATS, REPEAT_PROBE_RECORDS, repeatsPayOff } from './repeats.js';
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

  it('judges records hopeless from EARLY_JUDGE_RECORDS on when their repeats cannot reach the probe\'s need', () => {
    const early = EARLY_JUDGE_RECORDS;
    expect(repeatsPayOff(early - 1, early - 1)).toBe(true);
    expect(repeatsPayOff(early, early)).toBe(false);
    // The fewest repeats that keep counting at `early`: scaled by (probe / early)^2 and the
    // margin they reach what MIN_REPEATS needs at the probe's end.
    const need = (REPEAT_PROBE_RECORDS * (MIN_REPEATS - 1)) / MIN_REPEATS;
    const least = Math.ceil((need / EARLY_JUDGE_MARGIN) * (early / REPEAT_PROBE_RECORDS) ** 2);
    expect(repeatsPayOff(early, early - least)).toBe(true);
    expect(repeatsPayOff(early, early - least + 1)).toBe(false);
    // Twice the records seen, four times the repeats needed.
    expect(repeatsPayOff(2 * early, 2 * early - 4 * least)).toBe(true);
    expect(repeatsPayOff(2 * early, 2 * early - 4 * least + 1)).toBe(false);
  });

  it('never judges early a vocabulary that pays off at the probe\'s end (uniform 20k words, Zipf 1M words)', () => {
    for (const [name, pick] of [
      ['uniform 20k', (r: () => number) => Math.floor(r() * 20_000)],
      ['zipf 1M', (r: () => number) => Math.floor(Math.exp(r() * Math.log(1_000_000)))],
    ] as const) {
      const rnd = mulberry32(11);
      const seen = new Set<number>();
      for (let n = 1; n <= REPEAT_PROBE_RECORDS; n++) {
        seen.add(pick(rnd));
        if (!repeatsPayOff(n, seen.size)) throw new Error(`${name}: judged at ${n} records, ${seen.size} distinct`);
      }
      expect(seen.size * MIN_REPEATS).toBeLessThanOrEqual(REPEAT_PROBE_RECORDS);
    }
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
