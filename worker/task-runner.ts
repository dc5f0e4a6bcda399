/**
 * Handle one task message: claim, run the attempt, commit, and start the next
 * phase; or fail (retry with backoff / fail the job), release, or cancel.
 */
import { rm } from 'node:fs/promises';
import { isTerminal } from '../aws/job-store.js';
import type { ReceivedMessage } from '../aws/queue.js';
import type { AttemptRef, TaskItem } from '../aws/task-store.js';
import { leaseMs, type WorkerSettings } from '../core/config.js';
import { isErrorNamed, type StaleStateError, TaskFailedError } from '../core/errors.js';
import { logKey } from '../core/layout.js';
import { type JobRecord, parseTaskMessage, type TaskMessage } from '../core/model.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import { iso, type Services } from '../services/context.js';
import { advanceJob } from '../services/phases.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import { type FileCache, stepEnv } from './attempt-dir.js';
import { callContext, type Heartbeat, JOB_CHECK_EVERY } from './heartbeat.js';
import { runMapAttempt } from './map-task.js';
import { runReduceAttempt } from './reduce-task.js';

/** The reason an attempt is aborted because the worker is shutting down. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
}

export interface RunnerDeps {
  readonly s: Services;
  readonly workerId: string;
  readonly heartbeat: Heartbeat;
  readonly files: FileCache;
  readonly settings: WorkerSettings;
  /** Aborted on SIGTERM: the running attempt is released, not failed. */
  readonly shutdown: AbortSignal;
}

/** Retry delay after `failures` failed attempts: base × 2^(failures-1), capped at 60 s. */
export function backoffMs(base: number, failures: number): number {
  return Math.min(60_000, base * 2 ** Math.max(0, failures - 1));
}

export async function handleTaskMessage(d: RunnerDeps, msg: ReceivedMessage): Promise<void> {
  const { s } = d;
  const parsed = parseTaskMessage(msg.body);
  // Unprocessable: leave it; after maxReceiveCount receives SQS moves it to the DLQ.
  if (!parsed) return s.log.error('Unreadable task message left for the DLQ', { body: msg.body.slice(0, 200) });
  return callContext.run(parsed, () => handleParsed(d, msg, parsed));
}

async function handleParsed(d: RunnerDeps, msg: ReceivedMessage, parsed: TaskMessage): Promise<void> {
  const { s } = d;
  // The job read and the claim go out together (one round trip less on every task): a claim
  // on an unknown job fails on its condition, and a task of an ended job is cancelled below.
  const [jobRead, claimed] = await Promise.allSettled([
    recentJob(s, parsed.jobId) ?? s.jobs.get(parsed.jobId),
    s.tasks.claim(parsed.jobId, parsed.taskId, d.workerId, s.now(), s.timings.heartbeatMs * s.timings.missedHeartbeats),
  ]);
  if (jobRead.status === 'rejected') throw jobRead.reason;
  const job = jobRead.value;
  if (!job) return s.log.error('Task message for an unknown job left for the DLQ', { ...parsed });
  if (isTerminal(job.status)) {
    await s.tasks.cancel(parsed.jobId, parsed.taskId).catch(() => {});
    return s.taskQueue.delete(msg.receiptHandle);
  }
  if (claimed.status === 'rejected') {
    if (!isErrorNamed(claimed.reason, 'StaleStateError')) throw claimed.reason;
    // A duplicate delivery, or a task already done: the task record is the truth.
    return s.taskQueue.delete(msg.receiptHandle);
  }
  const task: TaskItem = claimed.value;
  const ref: AttemptRef = { jobId: job.jobId, taskId: task.taskId, owner: d.workerId, attempt: task.attempt };
  const abort = new AbortController();
  const onShutdown = () => abort.abort(new ShutdownError('worker shutting down'));
  d.shutdown.addEventListener('abort', onShutdown, { once: true });
  d.heartbeat.track({ ref, receiptHandle: msg.receiptHandle, abort, visibleUntil: s.now() + 30_000 });
  const log = { ...ref };
  s.log.info('Task claimed', log);
  const userCounters: Record<string, number> = {};
  let workDir: string | undefined;
  try {
    workDir = await d.files.prepare(job, task);
    const input: AttemptInput = {
      services: s,
      job,
      task,
      workDir,
      settings: d.settings,
      signal: abort.signal,
      stepContext: (role) => ({
        role,
        workDir: workDir as string,
        env: stepEnv(job, task),
        noProgressTimeoutMs: job.manifest.taskTimeoutSeconds
          ? job.manifest.taskTimeoutSeconds * 1000
          : s.timings.taskTimeoutMs,
        onCounter: (group, name, amount) => {
          const k = counterKey(group, name);
          userCounters[k] = (userCounters[k] ?? 0) + amount;
        },
        onStatus: (message) => void s.jobs.addCounters(job.jobId, {}, `${task.taskId}: ${message}`).catch(() => {}),
      }),
    };
    const result: AttemptResult = task.kind === 'map' ? await runMapAttempt(input) : await runReduceAttempt(input);
    if (result.stderr.length > 0) {
      await s.blobs.putBytes(s.names.bucket, logKey(job.jobId, task.taskId, task.attempt), result.stderr);
    }
    if (abort.signal.aborted) throw abort.signal.reason;
    const counters = { ...result.counters };
    for (const [k, v] of Object.entries(userCounters)) counters[k] = (counters[k] ?? 0) + v;
    const outcome = { output: result.output, counters };
    try {
      await s.tasks.commit(ref, s.now(), outcome);
    } catch (err) {
      // Refused only because the lease ran out (slow heartbeats) while nobody took the task
      // over: renew the lease (fenced on owner and attempt) and commit once more.
      if (!isErrorNamed(err, 'LeaseLostError') || !stillOwned(err, ref)) throw err;
      s.log.warn('Commit refused on an expired lease nobody took over; renewing it', log);
      await s.tasks.heartbeat(ref, s.now(), leaseMs(s.timings));
      await s.tasks.commit(ref, s.now(), outcome);
    }
    s.log.info('Task committed', log);
    s.metrics.taskCompleted(task.kind);
    // Committed: the message can go, and the job is read for the next phase at the same time.
    const [, fresh] = await Promise.all([s.taskQueue.delete(msg.receiptHandle), s.jobs.get(job.jobId)]);
    if (fresh) {
      rememberJob(s, fresh);
      await advanceJob(s, fresh);
    }
  } catch (err) {
    lastJob = undefined;
    const reason: unknown = abort.signal.aborted ? abort.signal.reason : err;
    await settleFailure(d, msg, job.manifest.maxAttempts ?? s.timings.maxAttempts, task, ref, reason);
  } finally {
    d.heartbeat.untrack();
    d.shutdown.removeEventListener('abort', onShutdown);
    if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * The job record read right after this worker's last commit. The next task of the same job
 * starting soon after uses it instead of reading the job again (one call less per task):
 * its manifest and task counts never change, and a job that ended meanwhile is caught by
 * the heartbeat's job check (every JOB_CHECK_EVERY beats of a task) and by the commit,
 * which is fenced on the job's status.
 */
let lastJob: { readonly table: string; readonly job: JobRecord; readonly at: number } | undefined;

function rememberJob(s: Services, job: JobRecord): void {
  lastJob = { table: s.names.table, job, at: s.now() };
}

function recentJob(s: Services, jobId: string): Promise<JobRecord> | undefined {
  const j = lastJob;
  const maxAge = s.timings.heartbeatMs * JOB_CHECK_EVERY;
  if (!j || j.table !== s.names.table || j.job.jobId !== jobId || s.now() - j.at > maxAge) return undefined;
  return Promise.resolve(j.job);
}

/** A refused owner transition that left the task as this attempt's: only its lease ran out. */
function stillOwned(err: unknown, ref: AttemptRef): boolean {
  const current = (err as StaleStateError).current as TaskItem | undefined;
  return current?.status === 'RUNNING' && current.owner === ref.owner && current.attempt === ref.attempt;
}

async function settleFailure(
  d: RunnerDeps,
  msg: ReceivedMessage,
  maxAttempts: number,
  task: TaskItem,
  ref: AttemptRef,
  err: unknown,
): Promise<void> {
  const { s } = d;
  const log = { ...ref };
  if (isErrorNamed(err, 'LeaseLostError')) {
    if (stillOwned(err, ref)) {
      // Still RUNNING under this live worker, which the checker never reclaims: hand it back.
      await s.tasks.release(ref, s.now()).catch((e) => s.log.warn('Release failed', { ...log, error: e }));
      await s.taskQueue.setVisibility(msg.receiptHandle, 0).catch(() => {});
      return s.log.warn('Attempt lost its lease; its output is discarded and the task released', log);
    }
    s.log.warn('Attempt lost its lease; its output is discarded', log);
    return s.taskQueue.delete(msg.receiptHandle).catch(() => {});
  }
  if (err instanceof ShutdownError) {
    // Graceful shutdown: hand the task back at once instead of waiting for the lease to expire.
    await s.tasks.release(ref, s.now()).catch((e) => s.log.warn('Release failed', { ...log, error: e }));
    await s.taskQueue.setVisibility(msg.receiptHandle, 0).catch(() => {});
    return s.log.info('Task released for shutdown', log);
  }
  if (isErrorNamed(err, 'JobEndedError')) {
    await s.tasks.cancel(ref.jobId, ref.taskId).catch(() => {});
    return s.taskQueue.delete(msg.receiptHandle);
  }
  const message = err instanceof Error ? err.message : String(err);
  const tail = err instanceof TaskFailedError ? err.stderrTail : err instanceof Error ? (err.stack ?? '') : '';
  const poison = isErrorNamed(err, 'PoisonTaskError');
  const exhausted = poison || task.failures + task.stalls + 1 >= maxAttempts;
  s.log.warn('Attempt failed', { ...log, error: message, exhausted });
  s.metrics.taskFailed(task.kind);
  if (tail) {
    await s.blobs.putBytes(s.names.bucket, logKey(ref.jobId, ref.taskId, ref.attempt), tail).catch(() => {});
  }
  let next: 'PENDING' | 'FAILED';
  try {
    next = await s.tasks.fail(ref, s.now(), message, exhausted);
  } catch (e) {
    if (isErrorNamed(e, 'LeaseLostError')) return s.taskQueue.delete(msg.receiptHandle).catch(() => {});
    throw e;
  }
  await s.jobs.addCounters(ref.jobId, {
    [counterKey(FRAMEWORK, Counters.FAILED_ATTEMPTS)]: 1,
    ...(next === 'PENDING' ? { [counterKey(FRAMEWORK, Counters.RETRIED_ATTEMPTS)]: 1 } : {}),
  });
  if (next === 'PENDING') {
    const delay = backoffMs(s.timings.retryBaseMs, task.failures + 1);
    await s.taskQueue.sendAll([JSON.stringify({ jobId: ref.jobId, taskId: ref.taskId })], delay / 1000);
  } else {
    const attempts = task.failures + task.stalls + 1;
    await s.jobs.end(
      ref.jobId,
      'FAILED',
      `Task ${ref.taskId} failed${poison ? ' (not retryable)' : ` after ${attempts} attempt${attempts > 1 ? 's' : ''}`}: ${message}` +
        (tail ? `\n--- stderr (last lines) ---\n${tail}` : ''),
      iso(s.now()),
    );
  }
  await s.taskQueue.delete(msg.receiptHandle);
}
