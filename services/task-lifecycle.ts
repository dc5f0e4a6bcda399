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

/**
 * The job's failure reason when a task was sent again more than its attempts allow without
 * ever being claimed: its message dead-lettered (received, never claimed) or lost (the
 * checker found the task waiting with the tasks queue empty).
 */
export function neverClaimedReason(taskId: string, redrives: number): string {
  return (
    `Task ${taskId} was never claimed: its message was dead-lettered or lost ${redrives} times ` +
    '(workers received it but did not claim it, or it never reached a worker; check the worker logs).'
  );
}

/**
 * When the first message of a never-claimed task was sent, by its kind and step: a first
 * step's maps before the job went RUNNING (`startedAt`), a later step's maps at
 * `mapEnqueuedAt`, reduces at `reduceEnqueuedAt`. Undefined when it has not been sent (or
 * the task is of another step than the job's).
 */
export function firstSentAt(job: JobRecord, task: TaskRecord): number | undefined {
  if ((task.step ?? 0) !== (job.step ?? 0)) return undefined;
  const at = task.kind === 'reduce' ? job.reduceEnqueuedAt : (job.step ?? 0) > 0 ? job.mapEnqueuedAt : job.startedAt;
  return at === undefined ? undefined : Date.parse(at);
}

/**
 * A task whose first message was sent more than `graceMs` ago and which nobody has claimed
 * since (claims remove `requeuedAt`; every way back to PENDING sets it, and the checker's
 * lost-requeue rule covers those).
 */
export function isUnclaimedPastGrace(job: JobRecord, task: TaskRecord, now: number, graceMs: number): boolean {
  if (task.status !== 'PENDING' || task.requeuedAt !== undefined || job.status !== 'RUNNING') return false;
  const sent = firstSentAt(job, task);
  return sent !== undefined && sent < now - graceMs;
}

/**
 * The kind of task a job waits for with none of it running, its messages sent more than
 * `graceMs` ago: its remaining tasks' messages were lost, or are in flight with receivers
 * that died. Never-claimed tasks are not in the active index, so the checker lists the
 * job's tasks of that kind only for such a job, and only when the tasks queue holds no
 * waiting message (a task queued behind others is never doubled). `active` are the job's
 * tasks from the active index.
 *
 *   t0        coordinator: m-7 PENDING, message sent ──▶ lost before any receive
 *   t0+grace  checker: job in MAP, no map RUNNING, queue has 0 waiting ──▶ list maps, send m-7 again
 */
export function stalledWaitingKind(
  job: JobRecord,
  active: readonly TaskRecord[],
  now: number,
  graceMs: number,
): 'map' | 'reduce' | undefined {
  if (job.status !== 'RUNNING') return undefined;
  const kind = job.phase === 'MAP' && job.mapsCommitted < job.numMaps ? 'map' : job.phase === 'REDUCE' && job.reducesCommitted < job.numReduces ? 'reduce' : undefined;
  if (kind === undefined) return undefined;
  const step = job.step ?? 0;
  if (active.some((t) => t.kind === kind && (t.step ?? 0) === step && t.status === 'RUNNING')) return undefined;
  const sent = firstSentAt(job, { kind, step } as TaskRecord);
  return sent !== undefined && sent < now - graceMs ? kind : undefined;
}
