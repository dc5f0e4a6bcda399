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
 *
 * And one rule at the map -> reduce boundary (`recycleBeforeTask`), checked when a message
 * has been received and before it is claimed: a process that ran `beforeReduceTasks` tasks or
 * more gives a reduce task's message back and is replaced, so that the reduce runs in a
 * fresh process. Why: a worker that ran ~1,000 tiny maps starts a reduce ~30 MiB above one
 * that ran 8 (V8's young generation at its ceiling, JIT code, old-space pages, glibc's
 * retained heap: docs/performance.md, sessions 13 and 15), none of it the reduce's, and no
 * in-process way gives it back (gc(), heap flags at run time, idle time: measured). Hadoop
 * runs every task attempt in a fresh JVM; this pays a process start (~0.65 CPU-s) once per
 * aged worker per reduce phase, not per task. Only while the message has been received at
 * most `GIVE_BACK_MAX_RECEIVES` times: another aged worker may receive a message one gave
 * back (two aged workers, one reduce each), and it should be replaced too, but a message must
 * keep most of the queue's 8 receives (core/resources.ts `TASKS_QUEUE.maxReceiveCount`) for
 * real failures before it goes to the dead-letter queue.
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
/** Tasks after which a worker is replaced before it claims a reduce; 0 turns it off (env). */
export const RECYCLE_BEFORE_REDUCE_TASKS_ENV = 'MR_WORKER_RECYCLE_BEFORE_REDUCE_TASKS';

export interface RecyclePolicy {
  readonly minTasks: number;
  /** 0: no RSS rule. */
  readonly rssGrowthMiB: number;
  /** 0: no task cap. */
  readonly maxTasks: number;
  /** A process that ran this many tasks gives a reduce's message back and is replaced; 0: off. */
  readonly beforeReduceTasks: number;
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
export const DEFAULT_RECYCLE_POLICY: RecyclePolicy = { minTasks: 256, rssGrowthMiB: 64, maxTasks: 0, beforeReduceTasks: 256 };

/** What a worker knows at a task boundary. */
export interface RecycleState {
  /** Tasks this process has run, the one that just ended included. */
  readonly tasks: number;
  readonly rssBytes: number;
  /** RSS after this process's first task (undefined until it ended). */
  readonly baselineRssBytes: number | undefined;
}

export type RecycleReason = 'rss' | 'tasks' | 'before-reduce';

/** Why the worker should be replaced now, or undefined to go on. */
export function recycleReason(s: RecycleState, p: RecyclePolicy): RecycleReason | undefined {
  if (p.maxTasks > 0 && s.tasks >= p.maxTasks) return 'tasks';
  if (s.tasks < Math.max(1, p.minTasks) || p.rssGrowthMiB <= 0 || s.baselineRssBytes === undefined) return undefined;
  return s.rssBytes > s.baselineRssBytes + p.rssGrowthMiB * MIB ? 'rss' : undefined;
}

/** A message received more often than this is claimed whatever the process's age. */
export const GIVE_BACK_MAX_RECEIVES = 3;

/** What a worker knows of a message it received, before it claims the task. */
export interface NextTask {
  /** Tasks this process has run (ended). */
  readonly tasks: number;
  /** The message names a reduce task (of any step). */
  readonly reduce: boolean;
  /** SQS's ApproximateReceiveCount of the message (1 on its first receive). */
  readonly receiveCount: number;
}

/**
 * True when the worker should give this message back (visibility 0) and be replaced instead
 * of claiming it: a reduce task's message received at most `GIVE_BACK_MAX_RECEIVES` times, in a process that ran `beforeReduceTasks`
 * tasks or more. 256 by default: no worker of the e2e bench or TeraSort 1 GiB gets there
 * (tens of tasks per worker), a worker of a 2,048-map job does (~1,000).
 */
export function recycleBeforeTask(n: NextTask, p: RecyclePolicy): boolean {
  return p.beforeReduceTasks > 0 && n.reduce && n.receiveCount <= GIVE_BACK_MAX_RECEIVES && n.tasks >= p.beforeReduceTasks;
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
    beforeReduceTasks: envNumber(env, RECYCLE_BEFORE_REDUCE_TASKS_ENV, d.beforeReduceTasks),
  };
}

/** The recycle settings of a launcher's environment that its workers get (the local stack passes them on). */
export function workerRecycleEnv(launcherEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(
    [RECYCLE_MIN_TASKS_ENV, RECYCLE_RSS_GROWTH_ENV, RECYCLE_MAX_TASKS_ENV, RECYCLE_BEFORE_REDUCE_TASKS_ENV].flatMap((k) => (launcherEnv[k] ? [[k, launcherEnv[k]]] : [])),
  );
}
