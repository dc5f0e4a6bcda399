/**
 * Handle one task message in four steps: claim (read the job, take the task), run (the
 * map or reduce attempt), commit (and start the next phase), settle (an attempt that did
 * not commit: retry, fail the job, release, cancel or discard). The rules each step
 * applies (attempts, retry delay, reasons, message format) live in
 * services/task-lifecycle.ts; the fenced writes in aws/task-store.ts.
 */
import { isTerminal } from '../aws/job-store.js';
import type { ReceivedMessage } from '../aws/queue.js';
import { type AttemptDetails, committedBy } from '../aws/task-store.js';
import { isErrorNamed } from '../core/errors.js';
import { settingsOf } from '../core/job-settings.js';
import { LIVE_LOG_EVERY_BEATS } from '../core/live-log.js';
import { liveLogKey, logKey, stepOutputUri } from '../core/layout.js';
import { isAccepted, type MapOutputLocation, type TaskRecord } from '../core/model.js';
import { isMapTaskId, stepOfTaskId, type StepView, stepView } from '../core/steps.js';
import { counterKey, Counters, FRAMEWORK } from '../core/reporter.js';
import type { Services } from '../services/context.js';
import { advanceAfterCommit, readAfterCommit } from '../services/phases.js';
import { leaseMs, parseTaskMessage, type TaskMessage } from '../services/task-lifecycle.js';
import { attemptInput } from './attempt.js';
import { stepEnv } from './attempt-dir.js';
import { callContext } from './heartbeat.js';
import { runMapAttempt } from './map-task.js';
import { runReduceAttempt } from './reduce-task.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { LiveLog } from './live-log.js';
import { CoalescedStatus } from './status-writer.js';
import { type Attempt, requestsOf, requestsSince, type RunnerDeps, ShutdownError, stillOwned } from './task-attempt.js';
import { afterCommitHook, beforeCommitHook, claimFor } from './backup-attempt.js';
import { settle } from './task-settle.js';
import { RECENT_JOB_BEATS, RecentJob } from './recent-job.js';

export { type RunnerDeps, ShutdownError } from './task-attempt.js';

/** The step's task timeout (its `taskTimeoutSeconds`, mapreduce.task.timeout) or the worker's default. */
function taskTimeoutMs(s: Services, step: { readonly taskTimeoutSeconds?: number }): number {
  return step.taskTimeoutSeconds ? step.taskTimeoutSeconds * 1000 : s.timings.taskTimeoutMs;
}

/**
 * Module steps run user code on this thread, which may block it: the lease keeper keeps
 * their lease, for at most the task timeout (a sync call is timed out like a silent
 * executable). Executables run in processes of their own and need no keeper.
 */
function keeperLimit(s: Services, step: StepView): { blockedLimitMs?: number } {
  const inProcess = [step.mapper, step.reducer, step.combiner].some((x) => typeof x === 'object');
  return inProcess ? { blockedLimitMs: taskTimeoutMs(s, step) } : {};
}

/** What a finished run hands to the commit. */
interface RunOutcome {
  readonly output: MapOutputLocation;
  readonly counters: Record<string, number>;
}

export async function handleTaskMessage(d: RunnerDeps, msg: ReceivedMessage): Promise<void> {
  const { s } = d;
  const parsed = parseTaskMessage(msg.body);
  // Unprocessable: leave it; after maxReceiveCount receives SQS moves it to the DLQ.
  if (!parsed) return s.log.error(LOG_EVENTS.unreadableTaskMessage, { body: msg.body.slice(0, 200) });
  return callContext.run(parsed, () => handleParsed(d, msg, parsed));
}

async function handleParsed(d: RunnerDeps, msg: ReceivedMessage, parsed: TaskMessage): Promise<void> {
  const a = await claim(d, msg, parsed);
  if (!a) return;
  const onShutdown = () => a.abort.abort(new ShutdownError('worker shutting down'));
  d.shutdown.addEventListener('abort', onShutdown, { once: true });
  d.heartbeat.track({
    ref: a.ref,
    receiptHandle: msg.receiptHandle,
    abort: a.abort,
    progress: a.progress,
    ...keeperLimit(d.s, stepView(a.job.manifest, a.task.step ?? 0)),
    visibleUntil: d.s.now() + 30_000,
  });
  d.s.log.info(LOG_EVENTS.taskClaimed, { ...a.ref });
  let workDir: string | undefined;
  try {
    await d.heartbeat.keeperReady();
    workDir = await d.files.prepare(a.job, a.task);
    const outcome = await run(d, a, workDir);
    const dir = workDir;
    await commit(d, a, outcome, () => d.files.removeAttemptDir(dir));
    workDir = undefined; // its removal is part of what follows the commit
  } catch (err) {
    recent.forget();
    await settle(d, a, a.abort.signal.aborted ? a.abort.signal.reason : err);
  } finally {
    d.heartbeat.untrack();
    d.shutdown.removeEventListener('abort', onShutdown);
    if (workDir) await d.files.removeAttemptDir(workDir);
  }
}

/**
 * Claim: the job read and the claim go out together (one round trip less on every task):
 * a claim on an unknown job fails on its condition, and a task of an ended job is
 * cancelled. Returns undefined when there is nothing to run (the message is dealt with).
 */
async function claim(d: RunnerDeps, msg: ReceivedMessage, parsed: TaskMessage): Promise<Attempt | undefined> {
  const { s } = d;
  const requestsAtClaim = s.clients.requests?.snapshot();
  const claimedAt = s.now();
  const jobPromise =
    recent.forClaim(
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

/** Run: the map or reduce attempt, its stderr saved, its counters summed with the user's. */
async function run(d: RunnerDeps, a: Attempt, workDir: string): Promise<RunOutcome> {
  const { s } = d;
  const { job, task } = a;
  const userCounters: Record<string, number> = {};
  // One job write per heartbeat at most, however often the task reports a status.
  const status = new CoalescedStatus(
    (message) => s.jobs.addCounters(job.jobId, {}, `${task.taskId}: ${message}`),
    s.timings.heartbeatMs,
    s.now,
  );
  // The stderr so far, for `logs --follow`: every few beats when it grew; none for short attempts.
  const live = new LiveLog(
    (body) => s.blobs.putBytes(s.names.bucket, liveLogKey(job.jobId, task.taskId, task.attempt), body),
    s.timings.heartbeatMs * LIVE_LOG_EVERY_BEATS,
  );
  const base = { services: s, job, task, workDir, settings: d.settings, signal: a.abort.signal, progress: a.progress, mapListing: a.mapListing };
  const input = attemptInput(base, (step) => ({
    env: stepEnv(job, task, step, stepOutputUri(job.manifest, job.jobId, step.stepIndex, s.names.bucket)),
    noProgressTimeoutMs: taskTimeoutMs(s, step),
    onCounter: (group, name, amount) => {
      const k = counterKey(group, name);
      userCounters[k] = (userCounters[k] ?? 0) + amount;
    },
    onStatus: (message) => status.update(message),
    onStderr: (bytes) => live.append(bytes),
    nonZeroExitIsFailure: settingsOf(step).nonZeroExitIsFailure,
  }));
  let result;
  try {
    result = task.kind === 'map' ? await runMapAttempt(input) : await runReduceAttempt(input);
    if (result.stderr.length > 0) {
      await s.blobs.putBytes(s.names.bucket, logKey(job.jobId, task.taskId, task.attempt), result.stderr);
    }
    if (a.abort.signal.aborted) throw a.abort.signal.reason;
    await status.flush(); // the task's last status wins
  } finally {
    status.stop();
    await live.stop();
  }
  const counters = { ...result.counters };
  for (const [k, v] of Object.entries(userCounters)) counters[k] = (counters[k] ?? 0) + v;
  return { output: result.output, counters };
}

/**
 * Commit, then delete the message, start the next phase and remove the attempt dir
 * (`removeDir`). A commit whose response was lost is recognised as done (`already`, see
 * TaskStore.commit) and is not run twice. All that is handed to the loop: the dir's removal
 * (a map's output file) no longer delays the next claim (docs/performance.md, session 13).
 */
async function commit(d: RunnerDeps, a: Attempt, outcome: RunOutcome, removeDir: () => Promise<void>): Promise<void> {
  const { s } = d;
  const { ref } = a;
  const details = (): AttemptDetails => ({ ...bytesOf(a.task, outcome.counters), ...requestsOf(d, a, 'DynamoDB.TransactWriteItems') });
  const send = () =>
    s.tasks.commit(ref, s.now(), outcome, details()).catch(async (err: unknown) => {
      await recover(s, err, ref, (t) => committedBy(ref, t));
      return 'already' as const;
    });
  let done;
  await beforeCommitHook(s, ref);
  const handOver = handOverAfterCommit(d);
  try {
    try {
      done = await send();
    } catch (err) {
      // Refused only because the lease ran out (slow heartbeats) while nobody took the task
      // over: renew the lease (fenced on owner and attempt) and commit once more.
      if (!isErrorNamed(err, 'LeaseLostError') || !stillOwned(err, ref)) throw err;
      s.log.warn(LOG_EVENTS.commitRenewingLease, { ...ref });
      await s.tasks.heartbeat(ref, s.now(), leaseMs(s.timings));
      done = await send();
    }
    if (done === 'already') s.log.warn(LOG_EVENTS.commitAlreadyApplied, { ...ref });
    s.log.info(LOG_EVENTS.taskCommitted, { ...ref });
    s.metrics.taskCompleted(a.task.kind, a.task.step);
    if (ref.backup) s.metrics.speculativeWin(a.task.kind);
    await afterCommitHook(ref);
  } catch (err) {
    void handOver(Promise.resolve()); // not committed: nothing follows (settle deals with the attempt)
    throw err;
  }
  await handOver(Promise.all([afterCommit(s, a), removeDir()]).then(() => undefined));
}

/**
 * The loop's `committed` hook, called as the commit is sent (not once it is written): the
 * next receive's round trip then overlaps the commit's instead of following it; the message
 * waits for the commit's answer at most. Returns what to call with what follows the commit
 * (nothing when it failed): the loop takes that over; without the hook it is awaited.
 *
 *   before:  commit ──▶ ✓ ── receive ──▶ msg ── claim
 *   now:     commit ──▶ ✓ ── claim
 *            receive ──▶ msg ┘
 */
function handOverAfterCommit(d: RunnerDeps): (after: Promise<void>) => Promise<void> {
  if (!d.committed) return (after) => after;
  let settle: (after: Promise<void>) => void = () => {};
  d.committed(new Promise<void>((resolve) => (settle = resolve)));
  return (after) => {
    settle(after);
    return Promise.resolve();
  };
}

/**
 * After the commit: the message can go, and the job is read for the next phase at the same
 * time (by the FINALIZING guard itself for an output task of the last step: readAfterCommit). Nothing here decides the attempt's outcome (the commit did): a lost delete
 * redelivers a message whose claim is refused, and a phase change not made here is made by
 * the other committers' or the checker's advance (services/phases.ts).
 */
async function afterCommit(s: Services, a: Attempt): Promise<void> {
  const read = readAfterCommit(s, a.job, a.task);
  recent.remember(s.names.table, a.ref.jobId, read.then((r) => r.job), s.now());
  const [, fresh] = await Promise.all([s.taskQueue.delete(a.msg.receiptHandle), read]);
  await advanceAfterCommit(s, fresh);
}

/** Bytes in and out of a committed attempt, from its framework counters. */
function bytesOf(task: TaskRecord, counters: Record<string, number>): AttemptDetails {
  const input = counters[counterKey(FRAMEWORK, Counters.MAP_INPUT_BYTES)];
  const output = counters[counterKey(FRAMEWORK, Counters.OUTPUT_BYTES)];
  return {
    ...(task.kind === 'map' && input !== undefined ? { inputBytes: input } : {}),
    ...(output !== undefined ? { outputBytes: output } : {}),
  };
}

const recent = new RecentJob();

/**
 * A claim or commit that failed without an answer (timeout, connection reset, after the
 * SDK's retries) may still have been applied. Read the task: if it shows this very write
 * (`applied`), return it; otherwise rethrow. A refused condition is an answer: rethrown.
 *
 *   worker:  commit(attempt 3) ──▶ applied ──✗ reset, retries time out ──▶ read: COMMITTED by 3 → done
 */
async function recover(
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

