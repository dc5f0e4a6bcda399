/**
 * scale_curve's split of the reducers' RSS: what a worker had when the job entered REDUCE
 * (the map phase's share) and how much it grew after (the reduces' share).
 */
import { describe, expect, it } from 'vitest';
import { type ReduceRss, reduceRssSummary, sampleReduceRss } from '../../scripts/bench/scale-curve.js';

describe('reduceRssSummary', () => {
  it("takes each worker's first sample as its start and its peak after it as its growth", () => {
    const rss: ReduceRss = new Map();
    // worker 1 starts high and grows little; worker 2 starts low and grows most, then shrinks.
    for (const [pid, mib] of [
      [1, 120],
      [2, 100],
      [1, 124],
      [2, 113],
      [2, 104],
      [1, 121],
    ] as const) {
      sampleReduceRss(rss, pid, mib);
    }
    expect(reduceRssSummary(rss)).toEqual({ atStart: 120, growth: 13 });
  });

  it('is zero without samples', () => {
    expect(reduceRssSummary(new Map())).toEqual({ atStart: 0, growth: 0 });
  });
});
