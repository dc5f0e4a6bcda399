/**
 * The claim of a task message: the job read and the fenced claim in one round trip, and
 * what a lost answer to a claim or commit means (`recover`). The rules it applies live in
 * services/task-lifecycle.ts; the fenced writes in aws/task-store.ts.
 */
import { isTerminal } from '../aws/job-store.js';
import type { ReceivedMessage } from '../aws/queue.js';
import { isErrorNamed } from '../core/errors.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { isAccepted, type TaskRecord } from '../core/model.js';
import { isMapTaskId, stepOfTaskId } from '../core/steps.js';
import type { Services } from '../services/context.js';
import { leaseMs, type TaskMessage } from '../services/task-lifecycle.js';
import { claimFor } from './backup-attempt.js';
import { RECENT_JOB_BEATS, recentJob } from './recent-job.js';
import { type Attempt, requestsSince, type RunnerDeps } from './task-attempt.js';

/**
 * Claim: the job read and the claim go out together (one round trip less on every task):
 * a claim on an unknown job fails on its condition, and a task of an ended job is
 * cancelled. Returns undefined when there is nothing to run (the message is dealt with).
 */
export async function claim(d: RunnerDeps, msg: ReceivedMessage, parsed: TaskMessage): Promise<Attempt | undefined> {
  const { s } = d;
  const requestsAtClaim = s.clients.requests?.snapshot();
  const claimedAt = s.now();
  const jobPromise =
    recentJob.forClaim(
      { table: s.names.table, jobId: parsed.jobId, step: stepOfTaskId(parsed.taskId), now: claimedAt, maxAgeMs: s.timings.heartbeatMs * RECENT_JOB_BEATS },
      () => s.jobs.get(parsed.jobId),
    ) ?? s.jobs.get(parsed.jobId);
  // The job's shipped files download while the claim is in flight (a task this worker does
  // not get leaves them to dropEnded, like any ended job's files).
  void jobPromise
    .then((j) => {
      if (j && isAccepted(j) && !isTerminal(j.status)) d.files.prefetch(j);
    })
    .catch(() => {});
  // A reducer's first request after the claim lists the step's map outputs: it goes out with
  // the claim. Committed map outputs are final, so a listing taken a moment before the claim
  // is as good as one after it (an early reducer lists again for maps still running).
  const mapListing = isMapTaskId(parsed.taskId)
    ? undefined
    : s.tasks.listMapOutputs(parsed.jobId, stepOfTaskId(parsed.taskId)).catch(() => undefined);
  const [jobRead, claimed] = await Promise.allSettled([
    jobPromise,
    parsed.backup
      ? claimFor(s, parsed, d.workerId, claimedAt)
      : s.tasks
          .claim(parsed.jobId, parsed.taskId, d.workerId, claimedAt, leaseMs(s.timings))
          .catch((err: unknown) => recover(s, err, parsed, (t) => t.status === 'RUNNING' && t.owner === d.workerId && t.claimedAt === claimedAt)),
  ]);
  if (jobRead.status === 'rejected') throw jobRead.reason;
  const job = jobRead.value;
  if (!job) {
    s.log.error(LOG_EVENTS.unknownJobTaskMessage, { ...parsed });
    return undefined;
  }
  const task = claimed.status === 'fulfilled' ? claimed.value : undefined;
  const ref = task && { ...parsed, owner: d.workerId, attempt: task.attempt, startedAt: task.claimedAt ?? s.now() };
  if (isTerminal(job.status) || !isAccepted(job)) {
    const end = ref
      ? s.tasks.cancelAttempt(ref, s.now(), { reason: `job ${job.status}`, ...requestsSince(s, requestsAtClaim, 'DynamoDB.UpdateItem') })
      : s.tasks.cancel(parsed.jobId, parsed.taskId);
    await end.catch(() => {});
    await s.taskQueue.delete(msg.receiptHandle);
    return undefined;
  }
  if (!task || !ref) {
    const reason: unknown = claimed.status === 'rejected' ? claimed.reason : undefined;
    if (!isErrorNamed(reason, 'StaleStateError')) throw reason;
    // A duplicate delivery, or a task already done: the task record is the truth.
    await s.taskQueue.delete(msg.receiptHandle);
    return undefined;
  }
  return { msg, job, task, ref, abort: new AbortController(), progress: { done: 0, total: 0 }, requestsAtClaim, ...(mapListing ? { mapListing } : {}) };
}

/**
 * A claim or commit that failed without an answer (timeout, connection reset, after the
 * SDK's retries) may still have been applied. Read the task: if it shows this very write
 * (`applied`), return it; otherwise rethrow. A refused condition is an answer: rethrown.
 *
 *   worker:  commit(attempt 3) ──▶ applied ──✗ reset, retries time out ──▶ read: COMMITTED by 3 → done
 */
export async function recover(
  s: Services,
  err: unknown,
  at: { readonly jobId: string; readonly taskId: string },
  applied: (t: TaskRecord) => boolean,
): Promise<TaskRecord> {
  if (isErrorNamed(err, 'StaleStateError') || isErrorNamed(err, 'LeaseLostError')) throw err;
  const current = await s.tasks.get(at.jobId, at.taskId).catch(() => undefined);
  if (current && applied(current)) {
    s.log.warn(LOG_EVENTS.lostAnswerApplied, { ...at, error: err as Error });
    return current;
  }
  throw err;
}
