/**
 * Runtime settings shared by the coordinator, checker and workers. Read from the
 * environment (the CDK stack sets the same variables), with defaults that match
 * the issues: 2 s heartbeats, dead after 5 missed, 4 attempts, 10 min task timeout.
 * Tests shorten the intervals through these variables, never through sleeps.
 */
import { UsageError } from './errors.js';
import { MIB } from './manifest-limits.js';
import type { ResourceNames } from './resources.js';

export interface Timings {
  /** How often a worker heartbeats. */
  readonly heartbeatMs: number;
  /** A worker whose last heartbeat is older than heartbeatMs × missedHeartbeats is dead. */
  readonly missedHeartbeats: number;
  /** Attempts (failures plus stalls) before a task, and its job, fail. */
  readonly maxAttempts: number;
  /** Kill an executable that neither read input nor wrote output for this long. */
  readonly taskTimeoutMs: number;
  /** First retry delay; doubles per failure, capped at 60 s. */
  readonly retryBaseMs: number;
  /** How often the checker sweeps inside one invocation (or on the local timer). */
  readonly checkerIntervalMs: number;
  /** A requeued task with no claim for this long is republished by the checker. */
  readonly requeueGraceMs: number;
  /** SQS long-poll wait for workers. */
  readonly pollWaitSeconds: number;
}

export interface WorkerSettings {
  /** In-memory sort buffer before spilling sorted runs to local disk. */
  readonly sortBufferBytes: number;
  /** Local scratch directory for attempt dirs and spills. */
  readonly scratchDir: string;
  /**
   * Run the lease keeper thread (worker/lease-keeper.ts), which keeps the lease while user
   * code blocks the worker; on unless false (MR_LEASE_KEEPER=false).
   */
  readonly leaseKeeper?: boolean;
  /**
   * Keep map output as bytes from the mapper's stdout to the map output file
   * (core/byte-sort-buffer.ts); on unless false (MR_MAP_SIDE_BYTES=false keeps the string
   * sort buffer: the same output, more memory; docs/performance.md "The map side on bytes").
   */
  readonly mapSideBytes?: boolean;
}

export const DEFAULT_TIMINGS: Timings = {
  heartbeatMs: 2000,
  missedHeartbeats: 5,
  maxAttempts: 4,
  taskTimeoutMs: 10 * 60 * 1000,
  retryBaseMs: 1000,
  checkerIntervalMs: 3000,
  requeueGraceMs: 120_000,
  pollWaitSeconds: 20,
};

/**
 * Intervals short enough for tests and chaos runs: 200 ms heartbeats (a worker is dead
 * after 1 s), a 250 ms checker, 1 s polls, 100 ms first retry, 5 s requeue grace.
 */
export const SHORT_TIMINGS: Timings = {
  ...DEFAULT_TIMINGS,
  heartbeatMs: 200,
  missedHeartbeats: 5,
  checkerIntervalMs: 250,
  pollWaitSeconds: 1,
  retryBaseMs: 100,
  requeueGraceMs: 5000,
};

/** Lease length: how long after its last heartbeat a worker still owns its task. */
export function leaseMs(t: Timings): number {
  return t.heartbeatMs * t.missedHeartbeats;
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A non-negative number from the environment, `fallback` when unset or empty. A value that
 * is set but not such a number is refused loudly (a typo must not silently run the default).
 * @throws UsageError naming the variable and its value.
 */
export function envNumber(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) {
    throw new UsageError(`Environment variable ${name}="${raw}" must be a non-negative number.`);
  }
  return n;
}

export function timingsFromEnv(env: Env = process.env): Timings {
  const d = DEFAULT_TIMINGS;
  return {
    heartbeatMs: envNumber(env, 'MR_HEARTBEAT_MS', d.heartbeatMs),
    missedHeartbeats: envNumber(env, 'MR_MISSED_HEARTBEATS', d.missedHeartbeats),
    maxAttempts: envNumber(env, 'MR_MAX_ATTEMPTS', d.maxAttempts),
    taskTimeoutMs: envNumber(env, 'MR_TASK_TIMEOUT_MS', d.taskTimeoutMs),
    retryBaseMs: envNumber(env, 'MR_RETRY_BASE_MS', d.retryBaseMs),
    checkerIntervalMs: envNumber(env, 'MR_CHECKER_INTERVAL_MS', d.checkerIntervalMs),
    requeueGraceMs: envNumber(env, 'MR_REQUEUE_GRACE_MS', d.requeueGraceMs),
    pollWaitSeconds: envNumber(env, 'MR_POLL_WAIT_SECONDS', d.pollWaitSeconds),
  };
}

/** The environment variables that carry `Timings` (for child processes and the CDK stack). */
export function timingsToEnv(t: Timings): Record<string, string> {
  return {
    MR_HEARTBEAT_MS: String(t.heartbeatMs),
    MR_MISSED_HEARTBEATS: String(t.missedHeartbeats),
    MR_MAX_ATTEMPTS: String(t.maxAttempts),
    MR_TASK_TIMEOUT_MS: String(t.taskTimeoutMs),
    MR_RETRY_BASE_MS: String(t.retryBaseMs),
    MR_CHECKER_INTERVAL_MS: String(t.checkerIntervalMs),
    MR_REQUEUE_GRACE_MS: String(t.requeueGraceMs),
    MR_POLL_WAIT_SECONDS: String(t.pollWaitSeconds),
  };
}

/**
 * Set to "true" by a local stack for its workers: they read `file://` inputs from this
 * machine. A deployed worker never has it (the CDK stack does not set it).
 */
export const LOCAL_FILES_ENV = 'MR_LOCAL_FILES';

/** True when the environment says the worker belongs to a local stack. */
export function localFilesFromEnv(env: Env = process.env): boolean {
  return env[LOCAL_FILES_ENV] === 'true';
}

export function workerSettingsFromEnv(env: Env = process.env, tmp = '/tmp'): WorkerSettings {
  return {
    sortBufferBytes: envNumber(env, 'MR_SORT_BUFFER_BYTES', 128 * MIB),
    scratchDir: env.MR_SCRATCH_DIR || `${tmp}/mapreduce-worker`,
    leaseKeeper: env.MR_LEASE_KEEPER !== 'false',
    mapSideBytes: env.MR_MAP_SIDE_BYTES !== 'false',
  };
}

/** Resource names from MR_BUCKET, MR_TABLE, MR_TASKS_QUEUE... as set by the stack or `local up`. */
export function namesFromEnv(env: Env = process.env): ResourceNames {
  const need = (n: string): string => {
    const v = env[n];
    if (!v) throw new Error(`Environment variable ${n} is not set (it names a resource of the stack).`);
    return v;
  };
  return {
    bucket: need('MR_BUCKET'),
    table: need('MR_TABLE'),
    tasksQueue: need('MR_TASKS_QUEUE'),
    tasksDlq: env.MR_TASKS_DLQ ?? `${need('MR_TASKS_QUEUE')}-dlq`,
    submissionsQueue: need('MR_SUBMISSIONS_QUEUE'),
    submissionsDlq: env.MR_SUBMISSIONS_DLQ ?? `${need('MR_SUBMISSIONS_QUEUE')}-dlq`,
  };
}

export function namesToEnv(n: ResourceNames): Record<string, string> {
  return {
    MR_BUCKET: n.bucket,
    MR_TABLE: n.table,
    MR_TASKS_QUEUE: n.tasksQueue,
    MR_TASKS_DLQ: n.tasksDlq,
    MR_SUBMISSIONS_QUEUE: n.submissionsQueue,
    MR_SUBMISSIONS_DLQ: n.submissionsDlq,
  };
}
