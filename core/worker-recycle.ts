/**
 * When a worker process should exit at a task boundary to be replaced by a fresh one
 * (Hadoop runs each task attempt in a fresh JVM; Celery has `worker_max_tasks_per_child`
 * and `worker_max_memory_per_child`, gunicorn `max_requests`).
 *
 * Why: a worker that has run ~1,000 tiny tasks holds ~20 MiB more RSS than one that ran 8,
 * none of it live data (freed V8 pages V8 keeps, JIT code, glibc's retained arenas;
 * docs/performance.md, `scale_curve`). The ways to give it back inside the process cost
 * CPU on every job (glibc tunables ~5 % of TeraSort, forced collections recompile); a
 * replacement costs one process start per many tasks.
 *
 * The rule, checked after a task ended and before the next message is received:
 * - never before `minTasks` tasks in this process, so a normal job (8-16 tasks, a 256 MiB
 *   corpus, TeraSort 1 GiB: tens of tasks per worker at most, however large their buffers)
 *   never recycles whatever its RSS does;
 * - then when the RSS exceeds the baseline (the RSS after the process's first task) by
 *   `rssGrowthMiB`: memory that accumulated over many tasks;
 * - or, whatever the RSS, after `maxTasks` tasks (off by default; a test forces a recycle
 *   after every task with 1).
 */
import { envNumber } from './config.js';
import { MIB } from './manifest-limits.js';

/** The exit code of a worker that stopped to be replaced (EX_TEMPFAIL): its launcher starts another at once. */
export const WORKER_RECYCLE_EXIT_CODE = 75;

/** No recycle before this many tasks in a process (env MR_WORKER_RECYCLE_MIN_TASKS). */
export const RECYCLE_MIN_TASKS_ENV = 'MR_WORKER_RECYCLE_MIN_TASKS';
/** RSS growth over the first task's RSS that makes a worker recycle, MiB; 0 turns it off (env). */
export const RECYCLE_RSS_GROWTH_ENV = 'MR_WORKER_RECYCLE_RSS_GROWTH_MIB';
/** Tasks after which a worker recycles whatever its RSS; 0 turns it off (env). */
export const RECYCLE_MAX_TASKS_ENV = 'MR_WORKER_RECYCLE_MAX_TASKS';

export interface RecyclePolicy {
  readonly minTasks: number;
  /** 0: no RSS rule. */
  readonly rssGrowthMiB: number;
  /** 0: no task cap. */
  readonly maxTasks: number;
}

/**
 * A valve for memory that keeps growing (a leaking module step runs in the worker), not a
 * tuning of the normal creep, which is bounded (+25-35 MiB over 1,000 tiny tasks) and which a
 * replacement does not remove from the figure that motivated it: at M = 2048 a fresh
 * reducer grows to the same peak in its fetch, and each recycle costs ~0.65 CPU-s (node
 * start, SDK load, cold JIT) = ~20 tiny tasks. Measured in docs/performance.md (session 13,
 * branch `recycle`). 256 tasks: no bench figure's worker gets there (a full bench run gives
 * a worker ~60-80, TeraSort 1 GiB has 20 tasks in all).
 */
export const DEFAULT_RECYCLE_POLICY: RecyclePolicy = { minTasks: 256, rssGrowthMiB: 64, maxTasks: 0 };

/** What a worker knows at a task boundary. */
export interface RecycleState {
  /** Tasks this process has run, the one that just ended included. */
  readonly tasks: number;
  readonly rssBytes: number;
  /** RSS after this process's first task (undefined until it ended). */
  readonly baselineRssBytes: number | undefined;
}

export type RecycleReason = 'rss' | 'tasks';

/** Why the worker should be replaced now, or undefined to go on. */
export function recycleReason(s: RecycleState, p: RecyclePolicy): RecycleReason | undefined {
  if (p.maxTasks > 0 && s.tasks >= p.maxTasks) return 'tasks';
  if (s.tasks < Math.max(1, p.minTasks) || p.rssGrowthMiB <= 0 || s.baselineRssBytes === undefined) return undefined;
  return s.rssBytes > s.baselineRssBytes + p.rssGrowthMiB * MIB ? 'rss' : undefined;
}

/**
 * The policy from a worker's environment: unset or empty values take the defaults.
 * @throws UsageError when a value is set but not a non-negative number (the worker does not start).
 */
export function recyclePolicyFromEnv(env: Readonly<Record<string, string | undefined>>): RecyclePolicy {
  const d = DEFAULT_RECYCLE_POLICY;
  return {
    minTasks: envNumber(env, RECYCLE_MIN_TASKS_ENV, d.minTasks),
    rssGrowthMiB: envNumber(env, RECYCLE_RSS_GROWTH_ENV, d.rssGrowthMiB),
    maxTasks: envNumber(env, RECYCLE_MAX_TASKS_ENV, d.maxTasks),
  };
}

/** The recycle settings of a launcher's environment that its workers get (the local stack passes them on). */
export function workerRecycleEnv(launcherEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    [RECYCLE_MIN_TASKS_ENV, RECYCLE_RSS_GROWTH_ENV, RECYCLE_MAX_TASKS_ENV].flatMap((k) => (launcherEnv[k] ? [[k, launcherEnv[k]]] : [])),
  );
}
