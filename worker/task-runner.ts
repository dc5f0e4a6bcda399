/**
 * Handle one task message in four steps: claim (read the job, take the task), run (the
 * map or reduce attempt), commit (and start the next phase), settle (an attempt that did
 * not commit: retry, fail the job, release, cancel or discard). The rules each step
 * applies (attempts, retry delay, reasons, message format) live in
 * services/task-lifecycle.ts; the fenced writes in aws/task-store.ts; the claim and the
 * commit in worker/task-claim.ts and worker/task-commit.ts.
 */
import type { ReceivedMessage } from '../aws/queue.js';
import { settingsOf } from '../core/job-settings.js';
import { LIVE_LOG_EVERY_BEATS } from '../core/live-log.js';
import { liveLogKey, logKey, stepOutputUri } from '../core/layout.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { counterKey } from '../core/reporter.js';
import { type StepView, stepView } from '../core/steps.js';
import type { Services } from '../services/context.js';
import { parseTaskMessage, type TaskMessage } from '../services/task-lifecycle.js';
import { attemptInput } from './attempt.js';
import { stepEnv } from './attempt-dir.js';
import { callContext } from './heartbeat.js';
import { LiveLog } from './live-log.js';
import { runMapAttempt } from './map-task.js';
import { recentJob } from './recent-job.js';
import { runReduceAttempt } from './reduce-task.js';
import { CoalescedStatus } from './status-writer.js';
import { type Attempt, type RunnerDeps, ShutdownError } from './task-attempt.js';
import { claim } from './task-claim.js';
import { commit, type RunOutcome } from './task-commit.js';
import { settle } from './task-settle.js';

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
    recentJob.forget();
    await settle(d, a, a.abort.signal.aborted ? a.abort.signal.reason : err);
  } finally {
    d.heartbeat.untrack();
    d.shutdown.removeEventListener('abort', onShutdown);
    if (workDir) await d.files.removeAttemptDir(workDir);
  }
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

