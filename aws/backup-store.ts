/**
 * The transitions of a task's speculative backup attempt (writes in aws/backup-writes.ts).
 * TaskStore hands every owner transition of a ref with `backup: true` to this store, so
 * the task runner and the heartbeat drive a backup exactly like a primary attempt.
 */
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StaleStateError } from '../core/errors.js';
import type { AttemptOutcome, MapOutputLocation, TaskRecord } from '../core/model.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import {
  backupHeartbeatWrite,
  claimBackupWrite,
  commitBackupTaskWrite,
  endBackupWrite,
  postBackupWrite,
  repostBackupWrite,
  supersededWrite,
  type TaskStatusSeen,
} from './backup-writes.js';
import type { AwsClients } from './clients.js';
import { fenced, itemToTask, jobKey, mapOutputPut, taskKey } from './items.js';
import { backupLeaseLost, leaseExtensionRefused, stale } from './task-conflicts.js';
import {
  type AttemptDetails,
  type AttemptProgress,
  type AttemptRef,
  attemptEntry,
  committedBy,
  type TaskWrite,
} from './task-writes.js';
import { committedAttempt, jobCommitWrite } from './job-commit-write.js';

type Item = Record<string, unknown>;

/** The task record as the backup's claim shows it: attempt, owner and claim time are the backup's. */
export function asBackupTask(t: TaskRecord): TaskRecord {
  return { ...t, attempt: t.backupAttempt ?? t.attempt, owner: t.backupOwner, claimedAt: t.backupClaimedAt };
}

export class BackupStore {
  constructor(
    private readonly c: AwsClients,
    private readonly table: string,
  ) {}

  /** post (checker): at most one backup per task, whatever the number of checkers. */
  async post(task: TaskRecord, now: number): Promise<number> {
    await this.update(task.jobId, task.taskId, postBackupWrite(task.attempt, now), stale(task.jobId, task.taskId, 'changed before its backup was posted'));
    return task.attempt + 1;
  }

  /** repost (checker): a posted, unclaimed backup sent again; one checker wins per bound. */
  async repost(task: TaskRecord, now: number): Promise<void> {
    if (task.backupPostedAt === undefined) throw new StaleStateError<TaskRecord>(`${task.jobId}/${task.taskId} has no backup posted`, task);
    await this.update(task.jobId, task.taskId, repostBackupWrite(task.backupPostedAt, now), stale(task.jobId, task.taskId, 'backup was claimed or reposted'));
  }

  /**
   * claim of the posted backup (once). Returns the task as the backup sees it (see
   * asBackupTask). Idempotent on a lost response, like TaskStore.claim.
   */
  async claim(jobId: string, taskId: string, owner: string, now: number, leaseMs: number): Promise<TaskRecord> {
    const current = await this.get(jobId, taskId);
    if (current?.backupAttempt === undefined) throw new StaleStateError<TaskRecord>(`${jobId}/${taskId} has no backup posted`, current);
    try {
      const out = await this.update(jobId, taskId, claimBackupWrite(current.backupAttempt, owner, now, leaseMs), stale(jobId, taskId, 'backup is not claimable'));
      return asBackupTask(itemToTask(out.Attributes as Item));
    } catch (err) {
      const seen = (err as StaleStateError<TaskRecord>).current;
      if (seen?.backupOwner === owner && seen.backupClaimedAt === now) return asBackupTask(seen);
      throw err;
    }
  }

  async heartbeat(ref: AttemptRef, now: number, leaseMs: number, progress?: AttemptProgress, opts?: { readonly requestTimeout?: number }): Promise<void> {
    await this.update(ref.jobId, ref.taskId, backupHeartbeatWrite(ref, now, leaseMs, progress), leaseExtensionRefused(ref, backupLeaseLost(ref, 'Heartbeat')), opts);
  }

  /** commit of the backup, with the job's commit counter, its counters and SPECULATIVE_WINS. */
  async commit(
    ref: AttemptRef,
    now: number,
    result: { readonly output?: MapOutputLocation; readonly counters: Record<string, number> },
    details: AttemptDetails = {},
  ): Promise<'committed' | 'already'> {
    const entry = attemptEntry(ref, now, 'committed', details);
    const task = commitBackupTaskWrite(ref, now, result.output, entry);
    const counters = { ...result.counters, [counterKey(FRAMEWORK, Counters.SPECULATIVE_WINS)]: 1 };
    try {
      await fenced(
        () =>
          this.c.doc.send(
            new TransactWriteCommand({
              TransactItems: [
                { Update: { TableName: this.table, Key: taskKey(ref.jobId, ref.taskId), ...task, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
                { Update: { TableName: this.table, Key: jobKey(ref.jobId), ...jobCommitWrite(ref.taskId, counters, committedAttempt(entry)) } },
                ...mapOutputPut(this.table, ref.taskId, ref.jobId, result.output),
              ],
            }),
          ),
        backupLeaseLost(ref, 'Commit'),
      );
      return 'committed';
    } catch (err) {
      if (committedBy(ref, (err as StaleStateError<TaskRecord>).current)) return 'already';
      throw err;
    }
  }

  /**
   * end of the backup without its commit. The status the write expects is taken from the
   * task as read just before; when another attempt committed, the outcome is `superseded`.
   * Returns the task's status after the write (PENDING: nobody runs it any more, the
   * caller sends its message). `expired`: the checker's reclaim of a dead backup.
   */
  async end(ref: AttemptRef, now: number, outcome: AttemptOutcome, details: AttemptDetails = {}, expired = false): Promise<TaskStatusSeen> {
    for (let tries = 0; ; tries++) {
      const task = await this.get(ref.jobId, ref.taskId);
      if (!task || task.backupOwner !== ref.owner || task.backupAttempt !== ref.attempt) {
        throw backupLeaseLost(ref, 'End')(undefined, undefined);
      }
      const seen = task.status;
      if (seen !== 'RUNNING' && seen !== 'PENDING' && seen !== 'COMMITTED') throw backupLeaseLost(ref, 'End')(undefined, undefined);
      const ended = seen === 'COMMITTED' && !committedBy(ref, task) ? 'superseded' : outcome;
      try {
        await this.update(ref.jobId, ref.taskId, endBackupWrite(ref, now, seen, attemptEntry(ref, now, ended, details), expired), backupLeaseLost(ref, 'End'));
        return seen;
      } catch (err) {
        // The primary moved (committed, failed) between the read and the write: read again.
        if (tries >= 2) throw err;
      }
    }
  }

  /** superseded: the history entry of a primary attempt that lost to the backup. */
  async superseded(ref: AttemptRef, now: number, details: AttemptDetails = {}): Promise<void> {
    await this.update(ref.jobId, ref.taskId, supersededWrite(ref, attemptEntry(ref, now, 'superseded', details)), backupLeaseLost(ref, 'Superseded'));
  }

  private async get(jobId: string, taskId: string): Promise<TaskRecord | undefined> {
    const out = await this.c.doc.send(new GetCommand({ TableName: this.table, Key: taskKey(jobId, taskId), ConsistentRead: true }));
    return out.Item ? itemToTask(out.Item) : undefined;
  }

  private update(
    jobId: string,
    taskId: string,
    write: TaskWrite,
    onLost: (current: Item | undefined, cause: unknown) => StaleStateError,
    opts?: { readonly requestTimeout?: number },
  ) {
    return fenced(
      () =>
        this.c.doc.send(
          new UpdateCommand({ TableName: this.table, Key: taskKey(jobId, taskId), ReturnValuesOnConditionCheckFailure: 'ALL_OLD', ...write }),
          opts,
        ),
      onLost,
    );
  }
}
