/**
 * What a task transition throws when its condition no longer holds: the task record as it
 * is now, in a LeaseLostError for the owner's own transitions, else a StaleStateError.
 */
import { JobEndedError, LeaseLostError, StaleStateError } from '../core/errors.js';
import type { TaskRecord } from '../core/model.js';
import { itemToTask } from './items.js';
import type { AttemptRef } from './task-writes.js';

type Item = Record<string, unknown>;
/** Builds the error of a lost condition from the item as it is now (returned with the failure). */
export type OnLost = (current: Item | undefined, cause: unknown) => StaleStateError<TaskRecord>;

/** The owner's attempt lost its lease (or was reclaimed): `what` was refused. */
export function leaseLost(ref: Omit<AttemptRef, 'startedAt'>, what: string): OnLost {
  return (current, cause) =>
    new LeaseLostError<TaskRecord>(
      `${what} refused: ${ref.jobId}/${ref.taskId} attempt ${ref.attempt} no longer owns its lease`,
      current && itemToTask(current),
      { cause, context: { jobId: ref.jobId, taskId: ref.taskId, owner: ref.owner, attempt: ref.attempt } },
    );
}

/** A backup attempt lost its lease (or the task ended): `what` was refused. */
export function backupLeaseLost(ref: AttemptRef, what: string): OnLost {
  return (current, cause) =>
    new LeaseLostError<TaskRecord>(
      `${what} refused: ${ref.jobId}/${ref.taskId} backup attempt ${ref.attempt} no longer holds its lease`,
      current && itemToTask(current),
      { cause, context: { jobId: ref.jobId, taskId: ref.taskId, owner: ref.owner, attempt: ref.attempt, backup: true } },
    );
}

/** The task changed before a checker/coordinator transition: `what` says how. */
export function stale(jobId: string, taskId: string, what: string): OnLost {
  return (current, cause) =>
    new StaleStateError<TaskRecord>(`${jobId}/${taskId} ${what}`, current && itemToTask(current), {
      cause,
      context: { jobId, taskId },
    });
}

/**
 * A refused lease extension (the owner's or the backup's): JobEndedError when the job's end
 * marked the task (`jobEnded`, services/job-end.ts), else the lease is lost (`lost`). The two
 * are told apart by the item the refusal returns, so the worker cancels the first and
 * settles the second as a lost lease.
 *
 *   cancel:  job CANCELLED ── list tasks ── mark m-3 (jobEnded = CANCELLED)
 *   worker:  claim m-3 ── hb ✓ ── hb ✓ ─────────────────────────────── hb ✗ JobEndedError → cancel attempt
 */
export function leaseExtensionRefused(ref: Omit<AttemptRef, 'startedAt'>, lost: OnLost): OnLost {
  return (current, cause) => {
    const task = current && itemToTask(current);
    if (task?.jobEnded === undefined) return lost(current, cause);
    return new JobEndedError<TaskRecord>(`Heartbeat refused: job ${ref.jobId} is ${task.jobEnded}`, task, {
      cause,
      context: { jobId: ref.jobId, taskId: ref.taskId, owner: ref.owner, attempt: ref.attempt, ...(ref.backup ? { backup: true } : {}) },
    });
  };
}
