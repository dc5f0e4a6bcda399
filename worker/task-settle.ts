/**
 * Settle an attempt that did not commit (the task runner's last step): why it ended
 * decides what happens to the task: released (lease ran out, shutdown), cancelled (job
 * ended), discarded (another attempt owns it), or failed (retried after the retry delay, or
 * the job fails when it was the last allowed attempt). Rules from services/task-lifecycle.ts.
 */
import type { AttemptDetails } from '../aws/task-store.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { isErrorNamed, TaskFailedError } from '../core/errors.js';
import { logKey } from '../core/layout.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import { iso } from '../services/context.js';
import { endJob } from '../services/job-end.js';
import {
  attemptsAllowed,
  attemptsUsed,
  isLastAttempt,
  retryDelayMs,
  sendTaskMessages,
  taskFailedReason,
} from '../services/task-lifecycle.js';
import { settleBackup, settleSuperseded } from './backup-attempt.js';
import { yieldDelayMs } from './map-output-watch.js';
import { type Attempt, requestsOf, type RunnerDeps, ShutdownError, stillOwned } from './task-attempt.js';

/** Settle an attempt that did not commit: why it ended decides what happens to the task. */
export async function settle(d: RunnerDeps, a: Attempt, err: unknown): Promise<void> {
  const { s } = d;
  const { ref, msg } = a;
  const log = { ...ref };
  const requests = requestsOf(d, a, 'DynamoDB.UpdateItem');
  if (ref.backup) {
    const outcome = err instanceof ShutdownError ? 'released' : isErrorNamed(err, 'JobEndedError') ? 'cancelled' : 'failed';
    return settleBackup(s, ref, a.task.kind, msg, outcome, { reason: err instanceof Error ? err.message : String(err), ...requests });
  }
  if (isErrorNamed(err, 'LeaseLostError') && (await settleSuperseded(s, ref, a.task.kind, msg, err, requests))) return;
  if (isErrorNamed(err, 'LeaseLostError')) {
    if (stillOwned(err, ref)) {
      // Still RUNNING under this live worker, whose lease ran out: hand it back at once.
      await s.tasks.release(ref, s.now(), { reason: 'lease ran out', ...requests }).catch((e: unknown) => s.log.warn(LOG_EVENTS.releaseFailed, { ...log, error: e as Error }));
      await s.taskQueue.setVisibility(msg.receiptHandle, 0).catch(() => {});
      return s.log.warn(LOG_EVENTS.attemptLostLeaseReleased, log);
    }
    s.log.warn(LOG_EVENTS.attemptLostLease, log);
    return s.taskQueue.delete(msg.receiptHandle).catch(() => {});
  }
  if (err instanceof ShutdownError) {
    // Graceful shutdown: hand the task back at once instead of waiting for the lease to expire.
    await s.tasks.release(ref, s.now(), { reason: 'worker shutting down', ...requests }).catch((e: unknown) => s.log.warn(LOG_EVENTS.releaseFailed, { ...log, error: e as Error }));
    await s.taskQueue.setVisibility(msg.receiptHandle, 0).catch(() => {});
    return s.log.info(LOG_EVENTS.taskReleasedForShutdown, log);
  }
  if (isErrorNamed(err, 'ReduceYieldError')) {
    // An early reducer gives its worker to the maps it waits for (worker/map-output-watch.ts):
    // released (no attempt used up), its message hidden for a while so the map goes first.
    await s.tasks.release(ref, s.now(), { reason: (err as Error).message, ...requests }).catch((e: unknown) => s.log.warn(LOG_EVENTS.releaseFailed, { ...log, error: e as Error }));
    await s.taskQueue.setVisibility(msg.receiptHandle, Math.ceil(yieldDelayMs(s.timings.heartbeatMs) / 1000)).catch(() => {});
    return s.log.info(LOG_EVENTS.earlyReducerYielded, log);
  }
  if (isErrorNamed(err, 'JobEndedError')) {
    await s.tasks.cancelAttempt(ref, s.now(), { reason: (err as Error).message, ...requests }).catch(() => {});
    return s.taskQueue.delete(msg.receiptHandle);
  }
  await failAttempt(d, a, err, requests);
}

/** A failed attempt: retried after the retry delay, or, with no attempts left, the job fails. */
async function failAttempt(d: RunnerDeps, a: Attempt, err: unknown, requests: AttemptDetails): Promise<void> {
  const { s } = d;
  const { ref, task, msg } = a;
  const message = err instanceof Error ? err.message : String(err);
  const tail = err instanceof TaskFailedError ? err.stderrTail : err instanceof Error ? (err.stack ?? '') : '';
  const poison = isErrorNamed(err, 'PoisonTaskError');
  const exhausted = poison || isLastAttempt(task, attemptsAllowed(a.job, s.timings));
  s.log.warn(LOG_EVENTS.attemptFailed, { ...ref, error: message, exhausted });
  s.metrics.taskFailed(task.kind, task.step);
  if (tail) {
    await s.blobs.putBytes(s.names.bucket, logKey(ref.jobId, ref.taskId, ref.attempt), tail).catch(() => {});
  }
  let next: 'PENDING' | 'FAILED';
  try {
    next = await s.tasks.fail(ref, s.now(), message, exhausted, requests);
  } catch (e) {
    if (isErrorNamed(e, 'LeaseLostError')) return s.taskQueue.delete(msg.receiptHandle).catch(() => {});
    throw e;
  }
  await s.jobs.addCounters(ref.jobId, {
    [counterKey(FRAMEWORK, Counters.FAILED_ATTEMPTS)]: 1,
    ...(next === 'PENDING' ? { [counterKey(FRAMEWORK, Counters.RETRIED_ATTEMPTS)]: 1 } : {}),
  });
  if (next === 'PENDING') {
    await sendTaskMessages(s.taskQueue, ref.jobId, [ref.taskId], retryDelayMs(s.timings, task.failures + 1));
  } else {
    const reason = taskFailedReason(ref.taskId, attemptsUsed(task) + 1, message, poison, tail);
    await endJob(s, ref.jobId, 'FAILED', reason, iso(s.now()));
  }
  await s.taskQueue.delete(msg.receiptHandle);
}

