/**
 * scale_curve's split of the reducers' RSS: what a worker had when the job entered REDUCE
 * (the map phase's share) and how much it grew after (the reduces' share).
 */
import { describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import { MIB } from '../../core/manifest-limits.js';
import { memoryBreakdown } from '../../core/worker-heap.js';
import { type ReduceRss, reduceMemoryLines, reduceRssSummary, sampleReduceRss } from '../../scripts/bench/scale-curve.js';

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

describe('reduceMemoryLines', () => {
  it("reads each reduce attempt's memory line from a worker's JSON log, without the logger's fields, skipping other and cut lines", () => {
    const mem = memoryBreakdown(
      { rss: 118 * MIB, heapTotal: 58 * MIB, heapUsed: 30 * MIB, external: 10 * MIB, arrayBuffers: 8 * MIB },
      [{ space_name: 'new_space', space_size: 32 * MIB, space_used_size: 3 * MIB }],
    );
    const logger = { level: 'DEBUG', timestamp: '2026-11-28T00:35:14.217Z', service: 'mapreduce-worker', sampling_rate: 0, workerId: 'w1' };
    const log = [
      JSON.stringify({ ...logger, level: 'INFO', message: LOG_EVENTS.taskClaimed, taskId: 'r-00001' }),
      JSON.stringify({ ...logger, message: LOG_EVENTS.reduceMemory, taskId: 'r-00001', at: 'start', ...mem }),
      JSON.stringify({ ...logger, message: LOG_EVENTS.reduceMemory, taskId: 'r-00001', at: 'end', ...mem, rssMiB: 121 }),
      JSON.stringify({ ...logger, message: LOG_EVENTS.reduceMemory, taskId: 'r-00003', at: 'start', ...mem }).slice(0, 80),
    ].join('\n');
    expect(reduceMemoryLines(log)).toEqual([
      { taskId: 'r-00001', at: 'start', ...mem },
      { taskId: 'r-00001', at: 'end', ...mem, rssMiB: 121 },
    ]);
  });
});
