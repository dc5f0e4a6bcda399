import { describe, expect, it } from 'vitest';
import { UsageError } from './errors.js';
import { MIB } from './manifest-limits.js';
import { TASKS_QUEUE } from './resources.js';
import {
  DEFAULT_RECYCLE_POLICY,
  GIVE_BACK_MAX_RECEIVES,
  RECYCLE_BEFORE_REDUCE_TASKS_ENV,
  RECYCLE_MAX_TASKS_ENV,
  RECYCLE_MIN_TASKS_ENV,
  RECYCLE_RSS_GROWTH_ENV,
  recycleBeforeTask,
  recyclePolicyFromEnv,
  recycleReason,
  workerRecycleEnv,
} from './worker-recycle.js';

const base = 90 * MIB;
const at = (tasks: number, rssMiB: number, baseline: number | null = base) => ({ tasks, rssBytes: rssMiB * MIB, baselineRssBytes: baseline ?? undefined });

describe('worker recycle policy', () => {
  const p = DEFAULT_RECYCLE_POLICY;

  it('never recycles a normal job, however much its RSS moves (fewer tasks than minTasks)', () => {
    for (let tasks = 1; tasks < p.minTasks; tasks++) expect(recycleReason(at(tasks, 900), p)).toBeUndefined();
  });

  it('recycles after minTasks once RSS exceeds the first task\'s by the margin, not before', () => {
    const limit = 90 + p.rssGrowthMiB;
    expect(recycleReason(at(p.minTasks, limit), p)).toBeUndefined();
    expect(recycleReason(at(p.minTasks, limit + 0.5), p)).toBe('rss');
    expect(recycleReason(at(p.minTasks * 10, limit - 1), p)).toBeUndefined();
  });

  it('needs a baseline for the RSS rule', () => {
    expect(recycleReason(at(p.minTasks, 900, null), p)).toBeUndefined();
  });

  it('caps tasks whatever the RSS when maxTasks is set, and the RSS rule is off at 0', () => {
    const forced = { minTasks: p.minTasks, rssGrowthMiB: 0, maxTasks: 1, beforeReduceTasks: 0 };
    expect(recycleReason(at(1, 10, null), forced)).toBe('tasks');
    expect(recycleReason(at(p.minTasks, 900), { ...forced, maxTasks: 0 })).toBeUndefined();
    expect(recycleReason(at(99, 10), { ...p, maxTasks: 100 })).toBeUndefined();
    expect(recycleReason(at(100, 10), { ...p, maxTasks: 100 })).toBe('tasks');
  });

  it('reads the environment, keeping defaults for unset or empty values', () => {
    expect(recyclePolicyFromEnv({})).toEqual(DEFAULT_RECYCLE_POLICY);
    expect(recyclePolicyFromEnv({ [RECYCLE_MIN_TASKS_ENV]: '5', [RECYCLE_RSS_GROWTH_ENV]: '0', [RECYCLE_MAX_TASKS_ENV]: '1' })).toEqual({
      minTasks: 5,
      rssGrowthMiB: 0,
      maxTasks: 1,
      beforeReduceTasks: DEFAULT_RECYCLE_POLICY.beforeReduceTasks,
    });
    expect(recyclePolicyFromEnv({ [RECYCLE_BEFORE_REDUCE_TASKS_ENV]: '0' }).beforeReduceTasks).toBe(0);
    expect(workerRecycleEnv({ [RECYCLE_BEFORE_REDUCE_TASKS_ENV]: '3', OTHER: 'x' })).toEqual({ [RECYCLE_BEFORE_REDUCE_TASKS_ENV]: '3' });
    expect(recyclePolicyFromEnv({ [RECYCLE_MAX_TASKS_ENV]: '', [RECYCLE_MIN_TASKS_ENV]: ' ' })).toEqual(DEFAULT_RECYCLE_POLICY);
  });

  it('refuses a set value that is not a non-negative number, naming the variable', () => {
    for (const [name, raw] of [
      [RECYCLE_MIN_TASKS_ENV, 'x'],
      [RECYCLE_RSS_GROWTH_ENV, '-3'],
      [RECYCLE_MAX_TASKS_ENV, '1e999'],
      [RECYCLE_BEFORE_REDUCE_TASKS_ENV, 'many'],
    ] as const) {
      expect(() => recyclePolicyFromEnv({ [name]: raw })).toThrow(UsageError);
      expect(() => recyclePolicyFromEnv({ [name]: raw })).toThrow(name);
    }
  });

  describe('before a reduce', () => {
    const next = (tasks: number, reduce = true, receiveCount = 1) => ({ tasks, reduce, receiveCount });

    it('replaces a process that ran beforeReduceTasks tasks when a reduce task comes, for its first few receives only', () => {
      expect(recycleBeforeTask(next(p.beforeReduceTasks), p)).toBe(true);
      expect(recycleBeforeTask(next(p.beforeReduceTasks * 4), p)).toBe(true);
      // Given back by another aged worker: still given back, up to the bound, then claimed.
      expect(recycleBeforeTask(next(p.beforeReduceTasks, true, GIVE_BACK_MAX_RECEIVES), p)).toBe(true);
      expect(recycleBeforeTask(next(p.beforeReduceTasks, true, GIVE_BACK_MAX_RECEIVES + 1), p)).toBe(false);
      // Most of the queue's receives stay for real failures.
      expect(GIVE_BACK_MAX_RECEIVES).toBeLessThanOrEqual(TASKS_QUEUE.maxReceiveCount / 2);
    });

    it('costs nothing to a normal job: fewer tasks than the threshold, whatever comes', () => {
      // TeraSort 1 GiB: 10 tasks per worker; the full e2e bench: ~60-80 per worker.
      expect(p.beforeReduceTasks).toBeGreaterThanOrEqual(256);
      for (const tasks of [0, 1, 10, 80, p.beforeReduceTasks - 1]) expect(recycleBeforeTask(next(tasks), p)).toBe(false);
    });

    it('never before a map task, and not at all when turned off', () => {
      expect(recycleBeforeTask(next(p.beforeReduceTasks * 4, false), p)).toBe(false);
      expect(recycleBeforeTask(next(p.beforeReduceTasks * 4), { ...p, beforeReduceTasks: 0 })).toBe(false);
      expect(recycleBeforeTask(next(3), { ...p, beforeReduceTasks: 3 })).toBe(true);
    });
  });
});
