/**
 * The checker, modelled on BullMQ's stalled-jobs flow: leases are extended by
 * heartbeats; a task is requeued only when its lease is gone and its owner's
 * heartbeat is stale; a task fails after N stalls; a guard item makes
 * overlapping runs act once. It is also the safety net that starts the reduce
 * phase and finishes jobs when the worker that should have done so died, and that
 * sends again the tasks whose messages SQS dead-lettered before anyone claimed them, or
 * that were lost before any receive.
 */
import { isAccepted, type JobRecord, type TaskRecord } from '../core/model.js';
import { isErrorNamed } from '../core/errors.js';
import { type Services, iso } from './context.js';
import { endJob } from './job-end.js';
import { advanceJob, enqueueReduceTasks, finalizeJob } from './phases.js';
import { speculate } from './speculation.js';
import { changeStep, enqueueStepMaps } from './step-change.js';
import {
  attemptsAllowed,
  attemptsUsed,
  isLastAttempt,
  isUnclaimedPastGrace,
  stalledWaitingKind,
  leaseMs,
  neverClaimedReason,
  parseTaskMessage,
  sendTaskMessages,
  shouldReclaim,
  stalledError,
  taskStalledReason,
} from './task-lifecycle.js';
import { LOG_EVENTS } from '../core/log-events.js';

export interface SweepReport {
  /** False when another checker run holds the guard: this run did nothing. */
  readonly acted: boolean;
  /** It acted and found nothing to watch: no active job or task, no dead-lettered task message. */
  readonly idle: boolean;
  readonly republished: string[];
  readonly failedTasks: string[];
  readonly advancedJobs: string[];
}

const CHECKER_GUARD = 'checker';

/** One sweep. `runId` identifies this checker run for the guard. */
export async function sweep(s: Services, runId: string): Promise<SweepReport> {
  const now = s.now();
  const report: SweepReport = { acted: false, idle: false, republished: [], failedTasks: [], advancedJobs: [] };
  // The guard lasts a bit less than one sweep interval, so a run that died frees it quickly.
  const guardMs = Math.max(1000, Math.floor(s.timings.checkerIntervalMs * 0.9));
  if (!(await s.workers.acquireGuard(CHECKER_GUARD, runId, now, guardMs))) return report;
  (report as { acted: boolean }).acted = true;

  const [tasks, active] = await Promise.all([s.jobs.listActiveTasks(), s.jobs.listActive()]);
  const jobs = new Map(active.map((j) => [j.jobId, j]));
  await reclaimStalled(s, tasks, jobs, now, report);
  await republishLostRequeues(s, tasks, now, report);
  const deadLetters = await redriveDeadLetters(s, now, report);
  await redriveLostFirstMessages(s, tasks, jobs, now, report);
  // Backups of stragglers (and dead backups taken back): services/speculation.ts.
  await speculate(s, tasks, active, now).catch((err: unknown) => s.log.error(LOG_EVENTS.speculationFailed, { error: err as Error }));

  // Read again: the reclaims above may have ended jobs.
  const current = deadLetters + report.failedTasks.length > 0 ? await s.jobs.listActive() : active;
  for (const job of current) {
    if (await safetyNet(s, job, now)) report.advancedJobs.push(job.jobId);
  }
  (report as { idle: boolean }).idle = tasks.length === 0 && current.length === 0 && deadLetters === 0;
  return report;
}

async function reclaimStalled(
  s: Services,
  tasks: TaskRecord[],
  jobs: ReadonlyMap<string, JobRecord>,
  now: number,
  report: SweepReport,
): Promise<void> {
  const expired = tasks.filter((t) => t.status === 'RUNNING' && (t.leaseExpiresAt ?? 0) < now);
  if (expired.length === 0) return;
  const owners = await s.workers.get(expired.map((t) => t.owner ?? ''));
  for (const t of expired) {
    if (!shouldReclaim(t, owners.get(t.owner ?? ''), now, s.timings)) continue;
    // A task of a job that is no longer active: the job's end already settled it (cancel).
    const job = jobs.get(t.jobId) ?? (await s.jobs.get(t.jobId));
    const exhausted = isLastAttempt(t, attemptsAllowed(job, s.timings));
    try {
      const next = await s.tasks.reclaim(t, now, exhausted, stalledError(t));
      if (next === 'PENDING') {
        await sendTaskMessages(s.taskQueue, t.jobId, [t.taskId]);
        report.republished.push(`${t.jobId}/${t.taskId}`);
        s.log.warn(LOG_EVENTS.stalledTaskRepublished, { jobId: t.jobId, taskId: t.taskId, owner: t.owner, attempt: t.attempt });
      } else {
        report.failedTasks.push(`${t.jobId}/${t.taskId}`);
        await endJob(s, t.jobId, 'FAILED', taskStalledReason(t, attemptsUsed(t) + 1), iso(now));
      }
    } catch (err) {
      // Another checker (or the owner) moved the task first: nothing to do.
      if (!isErrorNamed(err, 'StaleStateError') && !isErrorNamed(err, 'LeaseLostError')) throw err;
    }
  }
}

async function republishLostRequeues(s: Services, tasks: TaskRecord[], now: number, report: SweepReport) {
  const lost = tasks.filter(
    (t) => t.status === 'PENDING' && t.requeuedAt !== undefined && t.requeuedAt < now - s.timings.requeueGraceMs,
  );
  for (const t of lost) {
    try {
      await s.tasks.touchRequeued(t, now);
      await sendTaskMessages(s.taskQueue, t.jobId, [t.taskId]);
      report.republished.push(`${t.jobId}/${t.taskId}`);
    } catch (err) {
      if (!isErrorNamed(err, 'StaleStateError')) throw err;
    }
  }
}

/**
 * Task messages SQS moved to the dead-letter queue: received maxReceiveCount times and
 * never deleted, e.g. by workers that died between receiving and claiming. A task still
 * PENDING in a live job would wait forever, so its message is sent again, at most
 * maxAttempts times; after that the job fails and says why. A message whose task moved
 * on (claimed, done, job ended) is stale and deleted. An unreadable one stays for an
 * operator (the DLQ alarm).
 *
 *   tasks queue: m-3 received ×5, never claimed ──▶ DLQ
 *   checker:     m-3 PENDING, job RUNNING ──▶ redrives 1, send to tasks queue, delete from DLQ
 */
async function redriveDeadLetters(s: Services, now: number, report: SweepReport): Promise<number> {
  const messages = await s.taskDeadLetters.receive(10, 0);
  for (const m of messages) {
    const ref = parseTaskMessage(m.body);
    if (!ref) continue;
    const [job, task] = await Promise.all([s.jobs.get(ref.jobId), s.tasks.get(ref.jobId, ref.taskId)]);
    if (job && task?.status === 'PENDING' && (job.status === 'RUNNING' || job.status === 'CREATING')) {
      await redrive(s, job, task, now, report, LOG_EVENTS.deadLetteredTaskResent);
    }
    await s.taskDeadLetters.delete(m.receiptHandle);
  }
  return messages.length;
}

/** At most this many never-claimed tasks are sent again per sweep (the next sweeps go on). */
export const MAX_LOST_REDRIVES_PER_SWEEP = 100;

/**
 * Phases whose task listing found nothing to send again, with when (this checker process's
 * memory: a cold start lists once more): listed again only after the requeue grace.
 */
const fruitlessListings = new Map<string, number>();

/**
 * Jobs waiting for tasks of a kind with none of it running, their messages sent longer ago
 * than the requeue grace, while the tasks queue holds no waiting message
 * (services/task-lifecycle.ts `stalledWaitingKind`): the messages of their never-claimed
 * tasks were lost, or are in flight with receivers that died. Without this, such a job
 * would wait forever with idle workers. Each such task is sent again like a dead-lettered
 * one (counted in `redrives`: past maxAttempts the job fails with the reason); a duplicate,
 * should the old message still turn up, is refused at claim. The queue and the job's tasks
 * are read only for such jobs.
 */
async function redriveLostFirstMessages(
  s: Services,
  tasks: TaskRecord[],
  jobs: ReadonlyMap<string, JobRecord>,
  now: number,
  report: SweepReport,
): Promise<void> {
  const grace = s.timings.requeueGraceMs;
  const stalled = [...jobs.values()].flatMap((job) => {
    const kind = stalledWaitingKind(job, tasks.filter((t) => t.jobId === job.jobId), now, grace);
    return kind ? [{ job, kind }] : [];
  });
  if (stalled.length === 0 || (await s.taskQueue.waiting()) > 0) return;
  for (const [key, at] of fruitlessListings) if (at < now - grace) fruitlessListings.delete(key);
  let budget = MAX_LOST_REDRIVES_PER_SWEEP;
  for (const { job, kind } of stalled) {
    const key = `${job.jobId}/${kind}/${job.step ?? 0}`;
    if (fruitlessListings.has(key)) continue;
    const lost = (await s.tasks.list(job.jobId, kind, job.step ?? 0)).filter((t) => isUnclaimedPastGrace(job, t, now, grace));
    // Nothing never-claimed: its messages are hidden with receivers (back within their
    // visibility timeout) or resent already; a large job's listing is not repeated every sweep.
    if (lost.length === 0) fruitlessListings.set(key, now);
    for (const t of lost.slice(0, budget)) {
      if (report.failedTasks.some((f) => f.startsWith(`${job.jobId}/`))) break;
      await redrive(s, job, t, now, report, LOG_EVENTS.lostTaskMessageResent);
    }
    budget -= Math.min(budget, lost.length);
    if (budget === 0) return;
  }
}

/** Send a never-claimed PENDING task again, or fail its job once it was sent too often. */
async function redrive(
  s: Services,
  job: JobRecord,
  task: TaskRecord,
  now: number,
  report: SweepReport,
  event: (typeof LOG_EVENTS)['deadLetteredTaskResent' | 'lostTaskMessageResent'],
): Promise<void> {
  const ref = { jobId: job.jobId, taskId: task.taskId };
  try {
    const redrives = await s.tasks.redrive(task, now);
    if (redrives > attemptsAllowed(job, s.timings)) {
      await endJob(s, job.jobId, 'FAILED', neverClaimedReason(task.taskId, redrives), iso(now));
      report.failedTasks.push(`${ref.jobId}/${ref.taskId}`);
    } else {
      await sendTaskMessages(s.taskQueue, ref.jobId, [ref.taskId]);
      report.republished.push(`${ref.jobId}/${ref.taskId}`);
      s.log.warn(event, { ...ref, redrives });
    }
  } catch (err) {
    if (!isErrorNamed(err, 'StaleStateError')) throw err;
  }
}

/** Start reduce / finish / resume finishing when the worker that should have done it died. */
async function safetyNet(s: Services, job: JobRecord, now: number): Promise<boolean> {
  if (job.status !== 'RUNNING' && job.status !== 'CREATING') return false;
  const grace = leaseMs(s.timings);
  const changedLongAgo = job.phaseChangedAt !== undefined && Date.parse(job.phaseChangedAt) < now - grace;
  if (job.phase === 'FINALIZING' && changedLongAgo) {
    return finalizeJob(s, job, true);
  }
  if (job.phase === 'REDUCE' && job.reduceEnqueuedAt === undefined && changedLongAgo) {
    await enqueueReduceTasks(s, job);
    return true;
  }
  // Reduces released early (slow-start) whose releaser died before sending them.
  const releasedLongAgo = job.reduceReleasedAt !== undefined && Date.parse(job.reduceReleasedAt) < now - grace;
  if (job.phase === 'MAP' && releasedLongAgo && job.reduceEnqueuedAt === undefined) {
    await enqueueReduceTasks(s, job);
    return true;
  }
  // A multi-step job between two steps (services/step-change.ts): resume the planner that
  // died, or send a later step's map tasks that its planner never got to send.
  if (job.phase === 'STEPPING' && changedLongAgo && isAccepted(job)) {
    return changeStep(s, job, true);
  }
  if (job.phase === 'MAP' && (job.step ?? 0) > 0 && job.mapEnqueuedAt === undefined && changedLongAgo) {
    await enqueueStepMaps(s, job);
    return true;
  }
  return (await advanceJob(s, job)) !== 'none';
}

/**
 * Sweep in a loop until `deadline` (a Lambda invocation runs ~50 s of its minute),
 * so detection never waits for the next schedule. With `stopWhenIdle`, the loop ends
 * after a sweep that found nothing to watch (the next scheduled run looks again), so an
 * idle deployment pays for one short sweep a minute instead of 55 s.
 */
export async function sweepUntil(
  s: Services,
  runId: string,
  deadline: number,
  signal?: AbortSignal,
  opts: { stopWhenIdle?: boolean } = {},
): Promise<number> {
  let sweeps = 0;
  while (s.now() < deadline && !signal?.aborted) {
    const started = s.now();
    try {
      const report = await sweep(s, runId);
      if (opts.stopWhenIdle && report.idle) return sweeps + 1;
    } catch (err) {
      s.log.error(LOG_EVENTS.checkerSweepFailed, { error: err as Error });
    }
    sweeps++;
    const wait = Math.min(deadline - s.now(), s.timings.checkerIntervalMs - (s.now() - started));
    if (wait > 0) await sleep(wait, signal);
  }
  return sweeps;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    // Remove the abort listener when the timer fires: one sweep per interval must not add one each time.
    const onAbort = () => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
