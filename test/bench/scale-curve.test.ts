/**
 * scale_curve's reducer figures: the samples cut to the reduce window, and the split of the
 * reducers' RSS into what a worker had when the window opened (the map phase's share) and
 * how much it grew after (the reduces' share).
 */
import { describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import { MIB } from '../../core/manifest-limits.js';
import { memoryBreakdown } from '../../core/worker-heap.js';
import { partitionOf } from '../../core/partition.js';
import { scaleLine } from '../../scripts/bench/scale-curve.js';
import { reduceRssSummary, type ResourceSample, windowSummary } from '../../scripts/bench/reducer-samples.js';
import { reduceDescriptorLines, reduceMemoryLines } from '../../scripts/bench/worker-log-lines.js';

const sample = (at: number, pid: number, rssMiB: number, openFiles = 20, sockets = 2): ResourceSample => ({ at, pid, rssMiB, openFiles, sockets });

describe('windowSummary', () => {
  it('keeps only the samples inside the window, ends included', () => {
    const samples = [
      sample(90, 1, 200, 60, 40), // the map phase: not the reducers'
      sample(100, 1, 120, 30, 9),
      sample(105, 2, 100, 28, 7),
      sample(150, 1, 124, 35, 15),
      sample(200, 2, 113, 29, 8),
      sample(201, 2, 300, 90, 70), // after the job's end
    ];
    const w = windowSummary(samples, 100, 200);
    expect(w).toMatchObject({ peakRssMiB: 124, peakOpenFiles: 35, peakSockets: 15, samples: 4 });
    expect([...w.byPid.entries()]).toEqual([
      [1, { first: 120, peak: 124 }],
      [2, { first: 100, peak: 113 }],
    ]);
  });

  it('is empty when no sample falls inside', () => {
    expect(windowSummary([sample(10, 1, 99)], 20, 30)).toMatchObject({ peakRssMiB: 0, samples: 0 });
  });
});

describe('reduceRssSummary', () => {
  it("takes each worker's first sample as its start and its peak after it as its growth", () => {
    // worker 1 starts high and grows little; worker 2 starts low and grows most, then shrinks.
    const samples = [sample(1, 1, 120), sample(2, 2, 100), sample(3, 1, 124), sample(4, 2, 113), sample(5, 2, 104), sample(6, 1, 121)];
    expect(reduceRssSummary(windowSummary(samples, 0, 10).byPid)).toEqual({ atStart: 120, growth: 13 });
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

describe('reduceDescriptorLines', () => {
  it("reads each reduce attempt's own descriptor peak from a worker's JSON log, skipping other and cut lines", () => {
    const logger = { level: 'DEBUG', timestamp: '2026-11-28T10:35:14.217Z', service: 'mapreduce-worker', sampling_rate: 0, workerId: 'w1' };
    const log = [
      JSON.stringify({ ...logger, message: LOG_EVENTS.reduceMemory, taskId: 'r-00001', at: 'end' }),
      JSON.stringify({ ...logger, message: LOG_EVENTS.reduceDescriptors, taskId: 'r-00001', openFiles: 31, sockets: 10, at: 'fetch', looks: 513 }),
      JSON.stringify({ ...logger, message: LOG_EVENTS.reduceDescriptors, taskId: 'r-00002', openFiles: 33, sockets: 9, at: 'merge', looks: 520 }).slice(0, 90),
    ].join('\n');
    expect(reduceDescriptorLines(log)).toEqual([{ taskId: 'r-00001', openFiles: 31, sockets: 10, at: 'fetch', looks: 513 }]);
  });
});

describe('scaleLine', () => {
  it('gives every map one key of each of the 4 reduce partitions, so each reducer fetches a slice of every map', () => {
    for (let i = 0; i < 200; i++) {
      const keys = scaleLine(i).trimEnd().split(' ');
      expect(keys.map((k) => partitionOf(k, 4)).sort()).toEqual([0, 1, 2, 3]);
    }
    expect(scaleLine(0)).not.toBe(scaleLine(1));
  });
});
