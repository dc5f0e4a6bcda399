/**
 * The commit of a finished attempt, and what follows it: the message's delete, the job read
 * for the next phase, the attempt dir's removal, all handed to the worker's loop so the next
 * claim does not wait for them. The fenced write itself is aws/task-store.ts's.
 */
import { type AttemptDetails, committedBy } from '../aws/task-store.js';
import { isErrorNamed } from '../core/errors.js';
import { LOG_EVENTS } from '../core/log-events.js';
import type { MapOutputLocation, TaskRecord } from '../core/model.js';
import { counterKey, Counters, FRAMEWORK } from '../core/reporter.js';
import type { Services } from '../services/context.js';
import { advanceAfterCommit, readAfterCommit } from '../services/phases.js';
import { leaseMs } from '../services/task-lifecycle.js';
import { afterCommitHook, beforeCommitHook } from './backup-attempt.js';
import { recentJob } from './recent-job.js';
import { recover } from './task-claim.js';
import { type Attempt, requestsOf, type RunnerDeps, stillOwned } from './task-attempt.js';

/** What a finished run hands to the commit. */
export interface RunOutcome {
  readonly output: MapOutputLocation;
  readonly counters: Record<string, number>;
}

/**
 * Commit, then delete the message, start the next phase and remove the attempt dir
 * (`removeDir`). A commit whose response was lost is recognised as done (`already`, see
 * TaskStore.commit) and is not run twice. All that is handed to the loop: the dir's removal
 * (a map's output file) no longer delays the next claim (docs/performance.md, session 13).
 */
export async function commit(d: RunnerDeps, a: Attempt, outcome: RunOutcome, removeDir: () => Promise<void>): Promise<void> {
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
  recentJob.remember(s.names.table, a.ref.jobId, read.then((r) => r.job), s.now());
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
