/**
 * Task state transitions: one method each, every one a conditional write fenced on
 * status, owner and attempt (like graphile-worker's completeJobs/failJobs); the writes
 * themselves are built in aws/task-writes.ts. A lost condition throws StaleStateError
 * (LeaseLostError for the owner's own transitions) carrying the task record as it is now.
 * The reads (lists, one task, the map outputs) are TaskReads, in aws/task-reads.ts.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TransactWriteCommand, type TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { writeConditionalChunks } from './chunked-writes.js';
import type { StaleStateError } from '../core/errors.js';
import type { MapOutputLocation, TaskRecord } from '../core/model.js';
import { BackupStore } from './backup-store.js';
import type { AwsClients } from './clients.js';
import { fenced, isConditionFailure, itemToTask, jobKey, mapOutputPut, taskKey } from './items.js';
import { TaskReads } from './task-reads.js';
import { leaseExtensionRefused, leaseLost, type OnLost, stale } from './task-conflicts.js';
import {
  type AttemptDetails,
  type AttemptProgress,
  type AttemptRef,
  attemptEntry,
  cancelAttemptWrite,
  cancelPendingWrite,
  claimWrite,
  commitTaskWrite,
  endAttemptWrite,
  heartbeatWrite,
  markJobEndedWrite,
  committedBy,
  OWNER_FENCE,
  redriveWrite,
  releaseWrite,
  type TaskWrite,
  touchRequeuedWrite,
} from './task-writes.js';
import { committedAttempt, jobCommitWrite } from './job-commit-write.js';

export type { AttemptDetails, AttemptProgress, AttemptRef } from './task-writes.js';
export { committedBy } from './task-writes.js';
/** A task record as read from the table (the name callers outside aws/ use). */
export type TaskItem = TaskRecord;

type Item = Record<string, unknown>;

/** What a commit writes besides the status: the map output and the attempt's counters. */
export interface CommitResult {
  readonly output?: MapOutputLocation;
  readonly counters: Record<string, number>;
}

/** A commit holds (`committed`) or was already made by this very attempt (`already`). */
export type CommitOutcome = 'committed' | 'already';

/** Per-request options of an SDK call (the answer deadline of each try). */
export interface SendOptions {
  readonly requestTimeout?: number;
}

/**
 * The answer deadline of each try of a lease write: a third of the lease, within 1-3 s
 * (3 s for the default 10 s lease), well below DynamoDB's 10 s client deadline, so a
 * black-holed write is cut and retried while the lease still runs.
 *
 *   lease:  |──────────────────── 10 s ────────────────────|
 *   beat:   try 1 ✗ (no answer, cut at 3 s) ─ backoff ─ try 2 ✓ (lease extended)
 */
export function leaseWriteAttemptMs(leaseMs: number): number {
  return Math.min(3000, Math.max(1000, Math.floor(leaseMs / 3)));
}

/** The conditional put of a new task record (also written with its job: JobStore.createWithTasks). */
export function newTaskPut(table: string, t: TaskRecord) {
  return {
    TableName: table,
    Item: { ...taskKey(t.jobId, t.taskId), itemType: 'TASK', ...t },
    ConditionExpression: 'attribute_not_exists(pk)',
  };
}

export class TaskStore extends TaskReads {
  /** The transitions of speculative backup attempts; owner transitions of a backup ref go there. */
  readonly backups: BackupStore;

  constructor(c: AwsClients, table: string) {
    super(c, table);
    this.backups = new BackupStore(c, table);
  }

  /**
   * Write new task records, never overwriting one that exists: a coordinator retried
   * while the first invocation still runs must not reset a task a worker already
   * claimed or committed. Chunks of 100 go in one transaction; when a chunk's
   * transaction loses a condition (a concurrent coordinator wrote some of them),
   * its items are put one by one, each only if absent.
   */
  async putNew(tasks: readonly TaskRecord[]): Promise<void> {
    const put = (t: TaskRecord) => newTaskPut(this.table, t);
    await writeConditionalChunks(this.c, tasks, (t) => ({ Put: put(t) }), (t) => this.c.doc.send(new PutCommand(put(t))));
  }

  /**
   * claim: PENDING → RUNNING, owned by `owner`, attempt + 1, lease until now + leaseMs.
   * Throws StaleStateError with the current record when the task is not PENDING (a
   * duplicate message, already committed, failed or cancelled). Idempotent: a claim
   * whose response was lost and that the SDK sent again is recognised by its owner and
   * claim time, and returns the claimed record.
   *
   *   worker:  claim(t=5) ──▶ DynamoDB applies it ──✗ response lost
   *            SDK retry claim(t=5) ──▶ refused (RUNNING) ── current: owner = me, claimedAt = 5 → mine
   */
  async claim(jobId: string, taskId: string, owner: string, now: number, leaseMs: number): Promise<TaskRecord> {
    try {
      const out = await this.update(jobId, taskId, claimWrite(jobId, taskId, owner, now, leaseMs), stale(jobId, taskId, 'is not claimable'));
      return itemToTask(out.Attributes as Item);
    } catch (err) {
      const current = (err as StaleStateError<TaskRecord>).current;
      if (current?.status === 'RUNNING' && current.owner === owner && current.claimedAt === now) return current;
      throw err;
    }
  }

  /**
   * heartbeat: extend the lease of an attempt this worker still owns. Refused with
   * JobEndedError when the job's end marked the task (services/job-end.ts), with
   * LeaseLostError when another attempt owns it or this one ended. Each try of the write is cut after `leaseWriteAttemptMs`
   * and retried by the client, so that one black-holed request cannot outlast the lease.
   */
  async heartbeat(ref: AttemptRef, now: number, leaseMs: number, progress?: AttemptProgress): Promise<void> {
    const opts = { requestTimeout: leaseWriteAttemptMs(leaseMs) };
    if (ref.backup) return this.backups.heartbeat(ref, now, leaseMs, progress, opts);
    await this.update(ref.jobId, ref.taskId, heartbeatWrite(ref, now, leaseMs, progress), leaseExtensionRefused(ref, leaseLost(ref, 'Heartbeat')), opts);
  }

  /**
   * commit: RUNNING → COMMITTED, together with the job's commit counter and the
   * attempt's counters (and, for a map, its map output item: listMapOutputs), in one transaction. It holds only while the attempt owns
   * an unexpired lease:
   *
   *   worker A: claim(attempt 3) ...... paused (SIGSTOP) ............ resume → commit ✗
   *   lease:    |---- 10 s ----| expired
   *   checker:                   reclaim → PENDING
   *   worker B:                            claim(attempt 4) → commit ✓
   *
   * A's commit fails on `#attempt = :attempt` (4 ≠ 3), or on the lease if nobody
   * reclaimed yet but the lease ran out.
   *
   * Idempotent: a commit whose response was lost and that is sent again finds the task
   * COMMITTED by this very attempt, and returns `already` (the counters were added once):
   *
   *   worker:  commit(attempt 3) ──▶ applied ──✗ response lost
   *            commit(attempt 3) again ──▶ refused ── current: COMMITTED, committedAttempt 3, owner me → already
   */
  async commit(ref: AttemptRef, now: number, result: CommitResult, details: AttemptDetails = {}): Promise<CommitOutcome> {
    if (ref.backup) return this.backups.commit(ref, now, result, details);
    const entry = attemptEntry(ref, now, 'committed', details);
    const task = commitTaskWrite(ref, now, result.output, entry);
    const input: TransactWriteCommandInput = {
      TransactItems: [
        { Update: { TableName: this.table, Key: taskKey(ref.jobId, ref.taskId), ...task, ReturnValuesOnConditionCheckFailure: 'ALL_OLD' } },
        { Update: { TableName: this.table, Key: jobKey(ref.jobId), ...jobCommitWrite(ref.taskId, result.counters, committedAttempt(entry)) } },
        ...mapOutputPut(this.table, ref.taskId, ref.jobId, result.output),
      ],
    };
    try {
      await fenced(() => this.c.doc.send(new TransactWriteCommand(input)), leaseLost(ref, 'Commit'));
      return 'committed';
    } catch (err) {
      if (committedBy(ref, (err as StaleStateError<TaskRecord>).current)) return 'already';
      throw err;
    }
  }

  /**
   * fail: a failed attempt goes back to PENDING (the caller sends a delayed
   * message) or, with no attempts left, to FAILED. Returns the new status.
   */
  async fail(ref: AttemptRef, now: number, error: string, exhausted: boolean, details: AttemptDetails = {}): Promise<'PENDING' | 'FAILED'> {
    // A failed backup costs the task no attempt: the primary still runs (or its end requeued the task).
    if (ref.backup) return (await this.backups.end(ref, now, 'failed', { reason: error, ...details }), 'PENDING');
    const entry = attemptEntry(ref, now, 'failed', { reason: error, ...details });
    await this.update(ref.jobId, ref.taskId, endAttemptWrite(ref, 'failures', OWNER_FENCE, { now, error, exhausted }, entry), leaseLost(ref, 'Fail'));
    return exhausted ? 'FAILED' : 'PENDING';
  }

  /** release: give a running attempt back untouched (graceful shutdown); not counted as a failure. */
  async release(ref: AttemptRef, now: number, details: AttemptDetails = {}): Promise<void> {
    if (ref.backup) return void (await this.backups.end(ref, now, 'released', details));
    const entry = attemptEntry(ref, now, 'released', details);
    await this.update(ref.jobId, ref.taskId, releaseWrite(ref, now, entry), leaseLost(ref, 'Release'));
  }

  /** cancel of the caller's own running attempt, because its job ended. */
  async cancelAttempt(ref: AttemptRef, now: number, details: AttemptDetails = {}): Promise<void> {
    if (ref.backup) return void (await this.backups.end(ref, now, 'cancelled', details));
    const entry = attemptEntry(ref, now, 'cancelled', details);
    await this.update(ref.jobId, ref.taskId, cancelAttemptWrite(ref, entry), leaseLost(ref, 'Cancel'));
  }

  /**
   * reclaim (checker): take a task back from an attempt whose lease ended. Holds only if
   * the task is still the attempt the checker saw and its lease has run out, so a lease
   * being extended is never stolen and two checkers cannot both reclaim it.
   *
   *   owner:   hb  hb  hb  ✝ (no more lease extensions)
   *   lease:   ───────────────|expired
   *   checker A:                 reclaim(attempt 3) ✓ → republish
   *   checker B:                 reclaim(attempt 3) ✗ (status is PENDING now)
   */
  async reclaim(task: TaskRecord, now: number, exhausted: boolean, reason = 'lease ended'): Promise<'PENDING' | 'FAILED'> {
    const ref: AttemptRef = {
      jobId: task.jobId,
      taskId: task.taskId,
      owner: task.owner ?? '',
      attempt: task.attempt,
      startedAt: task.claimedAt ?? now,
    };
    const entry = attemptEntry(ref, now, 'reclaimed', { reason });
    const write = endAttemptWrite(ref, 'stalls', `${OWNER_FENCE} AND leaseExpiresAt < :now`, { now, error: reason, exhausted }, entry);
    await this.update(task.jobId, task.taskId, write, stale(task.jobId, task.taskId, 'changed before reclaim'));
    return exhausted ? 'FAILED' : 'PENDING';
  }

  /** requeue (checker): a PENDING task whose retry message was lost; refresh requeuedAt once. */
  async touchRequeued(task: TaskRecord, now: number): Promise<void> {
    await this.update(task.jobId, task.taskId, touchRequeuedWrite(task.requeuedAt, now), stale(task.jobId, task.taskId, 'changed before requeue'));
  }

  /**
   * redrive (checker): the message of a task nobody claimed went to the dead-letter
   * queue, so the task is sent again. Counts the redrive and sets requeuedAt (so a lost
   * resend is caught like a lost retry). Holds only while the task is still the PENDING
   * attempt the checker saw. Returns the number of redrives so far.
   */
  async redrive(task: TaskRecord, now: number): Promise<number> {
    const out = await this.update(task.jobId, task.taskId, redriveWrite(task.attempt, now), stale(task.jobId, task.taskId, 'changed before redrive'));
    return Number(out.Attributes?.redrives ?? 1);
  }

  /** cancel: a PENDING task of a cancelled or failed job stops (running ones: cancelAttempt). */
  async cancel(jobId: string, taskId: string): Promise<void> {
    await this.update(jobId, taskId, cancelPendingWrite(), stale(jobId, taskId, 'is not pending'));
  }

  /**
   * The job ended (services/job-end.ts): its PENDING tasks are cancelled and every task
   * that may run is marked (`jobEnded`), so the next lease extension of a running attempt
   * is refused with JobEndedError. `listed` is the job's tasks as read after the job's end;
   * 100 writes per transaction. A PENDING task claimed between that read and its write is
   * marked instead (its cancel is refused), so its attempt stops at its next beat too.
   */
  async stopForJobEnd(jobId: string, jobStatus: 'CANCELLED' | 'FAILED', listed: readonly Pick<TaskRecord, 'taskId' | 'status'>[]): Promise<void> {
    const live = listed.filter((t) => t.status === 'PENDING' || t.status === 'RUNNING');
    const update = (taskId: string, write: TaskWrite) => ({ TableName: this.table, Key: taskKey(jobId, taskId), ...write });
    const first = (t: Pick<TaskRecord, 'taskId' | 'status'>) =>
      update(t.taskId, t.status === 'PENDING' ? cancelPendingWrite(jobStatus) : markJobEndedWrite(jobStatus));
    await writeConditionalChunks(this.c, live, (t) => ({ Update: first(t) }), async (t) => {
      try {
        await this.c.doc.send(new UpdateCommand(first(t)));
      } catch (err) {
        if (!isConditionFailure(err) || t.status !== 'PENDING') throw err;
        await this.c.doc.send(new UpdateCommand(update(t.taskId, markJobEndedWrite(jobStatus))));
      }
    });
  }

  /**
   * One conditional update of a task item. A lost condition throws `onLost(current item)`
   * (the item as it is now, returned by DynamoDB with the failure).
   */
  private update(jobId: string, taskId: string, write: TaskWrite, onLost: OnLost, opts?: SendOptions) {
    return fenced(
      () =>
        this.c.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: taskKey(jobId, taskId),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...write,
          }),
          opts,
        ),
      onLost,
    );
  }
}
