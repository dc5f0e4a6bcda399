/**
 * The worker's side of speculative backup attempts: claiming a posted backup, ending a
 * backup that did not commit, recording a primary attempt that lost to a committed backup
 * (`superseded`). The task runner calls these at its claim and settle steps and removes the
 * loser's working directory (spills, local output) like any attempt's; the loser deletes its
 * own temp objects in S3 (removeLoserObjects: their keys name its attempt, so never the
 * winner's), which nobody reads anyway (readers take the committed `output` key only).
 * The first-commit-wins protocol is in docs/reliability.md.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { LOG_EVENTS } from '../core/log-events.js';
import { liveLogKey, mapOutputKey, reduceTempKey } from '../core/layout.js';
import path from 'node:path';
import type { ReceivedMessage } from '../aws/queue.js';
import type { AttemptDetails, AttemptRef } from '../aws/task-store.js';
import type { StaleStateError } from '../core/errors.js';
import type { AttemptOutcome, TaskKind, TaskRecord } from '../core/model.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import type { Services } from '../services/context.js';
import { leaseMs, sendTaskMessages, type TaskMessage } from '../services/task-lifecycle.js';

/**
 * Test hook (integration tests only): `<taskId>@<directory>`. Every attempt of that task
 * that has a backup, about to commit, writes `<taskId>.<attempt>` into the directory and
 * waits (up to COMMIT_BARRIER_WAIT_MS) until two attempts are there, so a primary and its
 * backup send their commits at the same instant.
 */
export const COMMIT_BARRIER_ENV = 'MR_TEST_COMMIT_BARRIER';
export const COMMIT_BARRIER_WAIT_MS = 30_000;
/**
 * Test hook: a directory. A backup attempt that committed writes
 * `committed-<taskId>.<attempt>` holding its worker's pid there, then pauses
 * AFTER_COMMIT_PAUSE_MS before it deletes its message and advances the job, so a test can
 * SIGKILL the winner right after its commit.
 */
export const AFTER_COMMIT_ENV = 'MR_TEST_AFTER_COMMIT';
export const AFTER_COMMIT_PAUSE_MS = 3000;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** claim of a task message: the primary's claim, or for a backup message the backup's (counted once). */
export async function claimFor(s: Services, m: TaskMessage, owner: string, now: number): Promise<TaskRecord> {
  if (!m.backup) return s.tasks.claim(m.jobId, m.taskId, owner, now, leaseMs(s.timings));
  const task = await s.tasks.backups.claim(m.jobId, m.taskId, owner, now, leaseMs(s.timings));
  await s.jobs.addCounters(m.jobId, { [counterKey(FRAMEWORK, Counters.SPECULATIVE_ATTEMPTS)]: 1 });
  s.metrics.speculativeAttempt(task.kind);
  s.log.info(LOG_EVENTS.backupClaimed, { jobId: m.jobId, taskId: m.taskId, attempt: task.attempt });
  return task;
}

/**
 * True when `current` shows the other attempt of a speculated task committed while this one
 * still ran (an attempt that was reclaimed first already has its history entry).
 */
export function supersededIn(ref: AttemptRef, current: TaskRecord | undefined): boolean {
  return (
    current?.status === 'COMMITTED' &&
    current.backupAttempt !== undefined &&
    !(current.owner === ref.owner && current.committedAttempt === ref.attempt) &&
    !current.history?.some((h) => h.attempt === ref.attempt && h.worker === ref.owner)
  );
}

/**
 * A primary attempt whose write was refused because the other attempt committed first:
 * its history says `superseded` and its message is deleted. Returns
 * false when the refusal had another cause (the caller settles it as before).
 */
export async function settleSuperseded(
  s: Services,
  ref: AttemptRef,
  kind: TaskKind,
  msg: ReceivedMessage,
  err: unknown,
  d: AttemptDetails,
): Promise<boolean> {
  if (!supersededIn(ref, (err as StaleStateError<TaskRecord>).current)) return false;
  await s.tasks.backups.superseded(ref, s.now(), d).catch((e: unknown) => s.log.warn(LOG_EVENTS.supersededEntryNotWritten, { ...ref, error: e as Error }));
  await removeLoserObjects(s, ref, kind);
  await s.taskQueue.delete(msg.receiptHandle).catch(() => {});
  s.log.info(LOG_EVENTS.attemptSuperseded, { ...ref });
  return true;
}

/**
 * A backup that did not commit ends without costing the task an attempt; when the primary
 * is gone too (PENDING), the task is sent again now that nobody holds it.
 */
export async function settleBackup(
  s: Services,
  ref: AttemptRef,
  kind: TaskKind,
  msg: ReceivedMessage,
  outcome: AttemptOutcome,
  d: AttemptDetails,
): Promise<void> {
  try {
    const status = await s.tasks.backups.end(ref, s.now(), outcome, d);
    if (status === 'PENDING') await sendTaskMessages(s.taskQueue, ref.jobId, [ref.taskId]);
    // The primary committed: this backup lost (its end was accepted, so it is not the winner).
    if (status === 'COMMITTED') await removeLoserObjects(s, ref, kind);
    s.log.info(LOG_EVENTS.backupEnded, { ...ref, outcome: status === 'COMMITTED' ? 'superseded' : outcome });
  } catch (err) {
    // Its lease was taken back by the checker (a paused backup): nothing left to write.
    s.log.warn(LOG_EVENTS.backupLostLease, { ...ref, error: err as Error });
  }
  await s.taskQueue.delete(msg.receiptHandle).catch(() => {});
}

/** The temp objects an attempt may have written: its map output or reduce part, and its live stderr. */
export function attemptTempKeys(ref: Pick<AttemptRef, 'jobId' | 'taskId' | 'attempt'>, kind: TaskKind): string[] {
  const output = kind === 'map' ? mapOutputKey : reduceTempKey;
  return [output(ref.jobId, ref.taskId, ref.attempt), liveLogKey(ref.jobId, ref.taskId, ref.attempt)];
}

/**
 * Delete the temp objects of an attempt that lost its race, once the record says the other
 * attempt committed (the callers check). The keys carry this attempt's number, so the
 * winner's objects are never touched; the run is over, so nothing of it is still uploading.
 * A failed delete is logged and left to the bucket's tmp/ expiry.
 */
export async function removeLoserObjects(s: Services, ref: AttemptRef, kind: TaskKind): Promise<void> {
  for (const key of attemptTempKeys(ref, kind)) {
    await s.blobs.delete(s.names.bucket, key).catch((e: unknown) => s.log.warn(LOG_EVENTS.loserObjectNotDeleted, { ...ref, key, error: e as Error }));
  }
}

/** Test hook before a commit (COMMIT_BARRIER_ENV); no-op unless set. */
export async function beforeCommitHook(s: Services, ref: AttemptRef): Promise<void> {
  const [task, dir] = (process.env[COMMIT_BARRIER_ENV] ?? '').split('@');
  if (!dir || task !== ref.taskId) return;
  if (!ref.backup && (await s.tasks.get(ref.jobId, ref.taskId))?.backupAttempt === undefined) return;
  await writeFile(path.join(dir, `${ref.taskId}.${ref.attempt}`), String(process.pid));
  const deadline = Date.now() + COMMIT_BARRIER_WAIT_MS;
  while (Date.now() < deadline) {
    const here = (await readdir(dir)).filter((f) => f.startsWith(`${ref.taskId}.`));
    if (here.length >= 2) return;
    await sleep(5);
  }
}

/** Test hook after a backup's commit (AFTER_COMMIT_ENV); no-op unless set. */
export async function afterCommitHook(ref: AttemptRef): Promise<void> {
  const dir = process.env[AFTER_COMMIT_ENV];
  if (!dir || !ref.backup) return;
  await writeFile(path.join(dir, `committed-${ref.taskId}.${ref.attempt}`), String(process.pid));
  await sleep(AFTER_COMMIT_PAUSE_MS);
}
