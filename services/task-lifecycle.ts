/**
 * The task lifecycle rules, in one place: the task message format, the lease length,
 * attempts used and allowed (per job), the retry delay, when the checker reclaims a
 * task, and the failure reasons written on the job. The task runner (worker), the
 * checker and the coordinator all call these; the fenced writes that apply them live
 * in aws/task-store.ts.
 *
 *   PENDING --claim--> RUNNING --commit--> COMMITTED
 *                        |  \--fail (attempts left)-----> PENDING (+ message after retryDelayMs)
 *                        |  \--fail (attempts used up)--> FAILED  => job FAILED
 *                        |  \--release (SIGTERM)--------> PENDING (message visible at once)
 *                        \--reclaim (lease ended, by checker)--> PENDING / FAILED
 */
import { leaseMs as leaseLength, type Timings } from '../core/config.js';
import type { JobRecord, TaskRecord, WorkerRecord } from '../core/model.js';
import { stepView } from '../core/steps.js';

/** Body of a task queue message. The task record is the source of truth. */
export interface TaskMessage {
  readonly jobId: string;
  readonly taskId: string;
  /** The message of a speculative backup attempt (posted by the checker: services/speculation.ts). */
  readonly backup?: true;
}

/** The one place a task message body is built. */
export function taskMessageBody(jobId: string, taskId: string, backup = false): string {
  return JSON.stringify({ jobId, taskId, ...(backup ? { backup } : {}) } satisfies TaskMessage);
}

/** A task message's body, or undefined when it is not one. */
export function parseTaskMessage(body: string): TaskMessage | undefined {
  try {
    const m = JSON.parse(body) as Partial<TaskMessage> | null;
    return typeof m?.jobId === 'string' && typeof m.taskId === 'string'
      ? { jobId: m.jobId, taskId: m.taskId, ...(m.backup === true ? { backup: true as const } : {}) }
      : undefined;
  } catch {
    return undefined;
  }
}

/** What sending task messages needs (the task queue adapter). */
export interface TaskSender {
  sendAll(bodies: readonly string[], delaySeconds?: number): Promise<void>;
}

/** Send one message per task id of a job, optionally delayed (a retry). */
export function sendTaskMessages(
  queue: TaskSender,
  jobId: string,
  taskIds: readonly string[],
  delayMs = 0,
): Promise<void> {
  return queue.sendAll(
    taskIds.map((t) => taskMessageBody(jobId, t)),
    delayMs / 1000,
  );
}

/** Lease length: how long after its last extension an attempt still owns its task. */
export function leaseMs(t: Timings): number {
  return leaseLength(t);
}

/**
 * Attempts a task of this job may take (failures plus stalls): the current step's (its
 * jobconf may set them, core/steps.ts), else the manifest's, else the default.
 */
export function attemptsAllowed(job: Pick<JobRecord, 'manifest' | 'step'> | undefined, t: Timings): number {
  const m = job?.manifest;
  const step = job?.step ?? 0;
  const perStep = m?.steps?.[step] !== undefined ? stepView(m, step).maxAttempts : undefined;
  return perStep ?? m?.maxAttempts ?? t.maxAttempts;
}

/** Attempts that ended without a commit, before the one now ending. */
export function attemptsUsed(task: Pick<TaskRecord, 'failures' | 'stalls'>): number {
  return task.failures + task.stalls;
}

/** True when the attempt now ending is the task's last allowed one. */
export function isLastAttempt(task: Pick<TaskRecord, 'failures' | 'stalls'>, allowed: number): boolean {
  return attemptsUsed(task) + 1 >= allowed;
}

/** Retry delay after `failures` failed attempts: base × 2^(failures-1), capped at 60 s. */
export function retryDelayMs(t: Pick<Timings, 'retryBaseMs'>, failures: number): number {
  return Math.min(60_000, t.retryBaseMs * 2 ** Math.max(0, failures - 1));
}

/**
 * Whether the checker takes a RUNNING task back. The lease is the proof an attempt is
 * alive; the owner's worker item names the attempt it really runs (`runningTask`,
 * `runningAttempt`). The item is written on the owner's idle beats and, while a task runs,
 * only on a beat whose lease write failed (worker/heartbeat.ts): a running task's own lease
 * proves its worker alive, so a busy worker's item may be old.
 *
 *   owner:   claim  hb  hb  hb ✝ (dead or paused: no lease write, no item write)     → reclaim
 *   owner:   claim ✗ answer lost ── idle beats: item fresh, names no attempt        → reclaim
 *   owner:   claim  hb ✗ ✗ (lease writes lost; each writes the item, naming it)     → keep
 *   lease:   ────────────────|ended
 *
 * A lease that ended is reclaimed when the owner's heartbeat is older than a lease, or when
 * the owner's item was written after the claim and names another attempt or none: the
 * owner moved on (it took a lost claim or commit answer for a failure), so nobody will ever
 * extend that lease. An owner that names the attempt keeps it: it runs it, its lease writes
 * are merely failing, and its commit is fenced anyway.
 */
export function shouldReclaim(
  task: Pick<TaskRecord, 'status' | 'leaseExpiresAt' | 'owner' | 'jobId' | 'taskId' | 'attempt' | 'claimedAt'>,
  owner: Pick<WorkerRecord, 'heartbeatAt' | 'runningTask' | 'runningAttempt'> | undefined,
  now: number,
  t: Timings,
): boolean {
  if (task.status !== 'RUNNING' || (task.leaseExpiresAt ?? 0) >= now) return false;
  if (owner === undefined || owner.heartbeatAt < now - leaseMs(t)) return true;
  const runsIt = owner.runningTask === `${task.jobId}/${task.taskId}` && owner.runningAttempt === task.attempt;
  return !runsIt && owner.heartbeatAt > (task.claimedAt ?? 0);
}

/**
 * The workers that hold an unexpired lease (a primary's or a backup's) among `active`
 * tasks: alive and busy, whatever their worker item says, since a running task's lease is
 * written every beat and its worker item is not (worker/heartbeat.ts).
 */
export function leaseHolders(active: readonly Pick<TaskRecord, 'status' | 'owner' | 'leaseExpiresAt' | 'backupOwner' | 'backupLeaseExpiresAt'>[], now: number): Set<string> {
  const holders = new Set<string>();
  for (const t of active) {
    if (t.status === 'RUNNING' && t.owner !== undefined && (t.leaseExpiresAt ?? 0) >= now) holders.add(t.owner);
    if (t.backupOwner !== undefined && (t.backupLeaseExpiresAt ?? 0) >= now) holders.add(t.backupOwner);
  }
  return holders;
}

/**
 * A worker is live when it holds a lease (`holders`, from leaseHolders) or its worker item
 * was written within a lease; idle when live, holding no lease, and its item names no task.
 */
export function workerLiveness(
  w: Pick<WorkerRecord, 'workerId' | 'heartbeatAt' | 'runningTask'>,
  holders: ReadonlySet<string>,
  now: number,
  t: Timings,
): { live: boolean; idle: boolean } {
  const busy = holders.has(w.workerId);
  const live = busy || w.heartbeatAt >= now - leaseMs(t);
  return { live, idle: live && !busy && w.runningTask === undefined };
}

/** The job's failure reason when a task used up its attempts by failing. */
export function taskFailedReason(taskId: string, attempts: number, message: string, poison: boolean, tail = ''): string {
  return (
    `Task ${taskId} failed${poison ? ' (not retryable)' : ` after ${attempts} attempt${attempts > 1 ? 's' : ''}`}: ${message}` +
    (tail ? `\n--- stderr (last lines) ---\n${tail}` : '')
  );
}

/** The job's failure reason when a task's last attempt stalled (its lease ended). */
export function taskStalledReason(task: Pick<TaskRecord, 'taskId' | 'owner' | 'lastError'>, attempts: number): string {
  return (
    `Task ${task.taskId} failed after ${attempts} attempt${attempts > 1 ? 's' : ''}: its worker ${task.owner} stopped extending its lease.` +
    (task.lastError ? ` Earlier error: ${task.lastError}` : '')
  );
}

/** The attempt's lastError when the checker reclaims it. */
export function stalledError(task: Pick<TaskRecord, 'owner' | 'attempt'>): string {
  return `worker ${task.owner} stopped extending its lease during attempt ${task.attempt}`;
}

/** The job's failure reason when a task's message was dead-lettered too often. */
export function neverClaimedReason(taskId: string, redrives: number): string {
  return (
    `Task ${taskId} was never claimed: its message was dead-lettered ${redrives} times ` +
    '(workers received it but did not claim it; check the worker logs).'
  );
}
