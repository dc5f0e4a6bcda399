/**
 * The conditional writes of the task state machine, as plain request parameters: one
 * builder per transition, so the fences are read (and unit-tested) in one place. The
 * TaskStore (aws/task-store.ts) sends them. Every write that ends an attempt appends its
 * AttemptEntry to the task's `history` in the same write.
 */
import type { UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { type AttemptEntry, type AttemptOutcome, type TaskRecord } from '../core/model.js';
import { ACTIVE_TASK } from './items.js';

/** Who holds an attempt: the fence of every owner-side transition. */
export interface AttemptRef {
  readonly jobId: string;
  readonly taskId: string;
  readonly owner: string;
  readonly attempt: number;
  /** Epoch ms of the claim (the attempt's start, for its history entry). */
  readonly startedAt: number;
  /** A speculative backup attempt: its transitions are aws/backup-store.ts's. */
  readonly backup?: boolean;
}

/** Bytes an attempt has gone through, and has to in all (written with its lease). */
export interface AttemptProgress {
  readonly done: number;
  readonly total: number;
  /** Epoch ms when the worker last saw `done` grow (speculation: a stalled attempt). */
  readonly movedAt?: number;
}

/** What the attempt's owner knows about it when it ends (all optional). */
export interface AttemptDetails {
  readonly reason?: string;
  readonly inputBytes?: number;
  readonly outputBytes?: number;
  readonly requests?: Readonly<Record<string, number>>;
}

/** The expression part of one conditional update (the store adds table and key). */
export type TaskWrite = Required<
  Pick<UpdateCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>
> &
  Pick<UpdateCommandInput, 'ReturnValues'>;

/** The history entry of an attempt ending now. */
export function attemptEntry(
  ref: AttemptRef,
  endedAt: number,
  outcome: AttemptOutcome,
  d: AttemptDetails = {},
): AttemptEntry {
  return {
    attempt: ref.attempt,
    worker: ref.owner,
    startedAt: ref.startedAt,
    endedAt,
    outcome,
    ...(ref.backup ? { backup: true } : {}),
    ...(d.reason !== undefined ? { reason: d.reason.slice(0, 1000) } : {}),
    ...(d.inputBytes !== undefined ? { inputBytes: d.inputBytes } : {}),
    ...(d.outputBytes !== undefined ? { outputBytes: d.outputBytes } : {}),
    ...(d.requests !== undefined ? { requests: d.requests } : {}),
  };
}

/**
 * A lease extension (the owner's or a backup's) holds only while the job's end has not marked
 * the task (`jobEnded`, set by markJobEndedWrite): the refusal is how a running attempt learns
 * that its job was cancelled or failed, instead of reading the job on its beats.
 */
export const NOT_JOB_ENDED = 'attribute_not_exists(jobEnded)';

/** Owner fence shared by heartbeat, commit, fail, release, cancel of an attempt and reclaim. */
export const OWNER_FENCE = '#status = :running AND #owner = :owner AND #attempt = :attempt';
const APPEND_HISTORY = '#history = list_append(if_not_exists(#history, :noHistory), :entry)';

const OWNER_NAMES = { '#status': 'status', '#owner': 'owner', '#attempt': 'attempt' };

function ownerValues(ref: AttemptRef, extra: Record<string, unknown>): Record<string, unknown> {
  return { ':running': 'RUNNING', ':owner': ref.owner, ':attempt': ref.attempt, ...extra };
}

function historyValues(entry: AttemptEntry): Record<string, unknown> {
  return { ':noHistory': [], ':entry': [entry] };
}

/** claim: PENDING → RUNNING, owned by `owner`, attempt + 1, lease until now + leaseMs. */
export function claimWrite(jobId: string, taskId: string, owner: string, now: number, leaseMs: number): TaskWrite {
  return {
    UpdateExpression:
      'SET #status = :running, #owner = :owner, #attempt = #attempt + :one, claimedAt = :now, ' +
      'leaseExpiresAt = :lease, activeKind = :active, activeSort = :sort REMOVE requeuedAt',
    // Not while a backup attempt of the task still runs (its end frees the task: backup-writes.ts).
    ConditionExpression: '#status = :pending AND attribute_not_exists(backupOwner)',
    ExpressionAttributeNames: OWNER_NAMES,
    ExpressionAttributeValues: {
      ':running': 'RUNNING',
      ':pending': 'PENDING',
      ':owner': owner,
      ':one': 1,
      ':now': now,
      ':lease': now + leaseMs,
      ':active': ACTIVE_TASK,
      ':sort': `${jobId}#${taskId}`,
    },
    ReturnValues: 'ALL_NEW',
  };
}

/** heartbeat: extend the lease of an attempt this worker still owns. */
export function heartbeatWrite(ref: AttemptRef, now: number, leaseMs: number, progress?: AttemptProgress): TaskWrite {
  const moved = progress?.movedAt !== undefined;
  return {
    UpdateExpression: `SET leaseExpiresAt = :lease${progress ? ', progress = :p, progressTotal = :pt' : ''}${moved ? ', progressAt = :pa' : ''}`,
    ConditionExpression: `${OWNER_FENCE} AND ${NOT_JOB_ENDED}`,
    ExpressionAttributeNames: OWNER_NAMES,
    ExpressionAttributeValues: ownerValues(ref, {
      ':lease': now + leaseMs,
      ...(progress ? { ':p': progress.done, ':pt': progress.total } : {}),
      ...(moved ? { ':pa': progress.movedAt } : {}),
    }),
  };
}

/** The task half of the commit transaction (the job half is in task-store.ts). */
export function commitTaskWrite(ref: AttemptRef, now: number, output: object | undefined, entry: AttemptEntry): TaskWrite {
  return {
    UpdateExpression:
      'SET #status = :committed, committedAttempt = :attempt, committedAt = :now' +
      (output ? ', #output = :output' : '') +
      `, ${APPEND_HISTORY} REMOVE activeKind, activeSort, leaseExpiresAt`,
    ConditionExpression: `${OWNER_FENCE} AND leaseExpiresAt >= :now`,
    ExpressionAttributeNames: { ...OWNER_NAMES, '#history': 'history', ...(output ? { '#output': 'output' } : {}) },
    ExpressionAttributeValues: ownerValues(ref, {
      ':committed': 'COMMITTED',
      ':now': now,
      ...(output ? { ':output': output } : {}),
      ...historyValues(entry),
    }),
  };
}

/**
 * The write shared by fail and reclaim: the attempt ends, `count` goes up by one, and
 * the task is requeued (PENDING, still in the active index) or, with no attempts left, FAILED.
 */
export function endAttemptWrite(
  ref: AttemptRef,
  count: 'failures' | 'stalls',
  condition: string,
  o: { now: number; error: string; exhausted: boolean },
  entry: AttemptEntry,
): TaskWrite {
  const bump = `${count} = ${count} + :one, lastError = :err, ${APPEND_HISTORY}`;
  // DynamoDB rejects unused values: `:now` only when the update or the condition uses it.
  const usesNow = !o.exhausted || condition.includes(':now');
  return {
    UpdateExpression: o.exhausted
      ? `SET #status = :next, ${bump} REMOVE activeKind, activeSort, leaseExpiresAt`
      : `SET #status = :next, ${bump}, requeuedAt = :now REMOVE leaseExpiresAt`,
    ConditionExpression: condition,
    ExpressionAttributeNames: { ...OWNER_NAMES, '#history': 'history' },
    ExpressionAttributeValues: ownerValues(ref, {
      ':next': o.exhausted ? 'FAILED' : 'PENDING',
      ':err': o.error.slice(0, 4000),
      ':one': 1,
      ...(usesNow ? { ':now': o.now } : {}),
      ...historyValues(entry),
    }),
  };
}

/** release: give a running attempt back untouched (graceful shutdown); not counted as a failure. */
export function releaseWrite(ref: AttemptRef, now: number, entry: AttemptEntry): TaskWrite {
  return {
    UpdateExpression: `SET #status = :pending, requeuedAt = :now, ${APPEND_HISTORY} REMOVE leaseExpiresAt`,
    ConditionExpression: OWNER_FENCE,
    ExpressionAttributeNames: { ...OWNER_NAMES, '#history': 'history' },
    ExpressionAttributeValues: ownerValues(ref, { ':pending': 'PENDING', ':now': now, ...historyValues(entry) }),
  };
}

/** cancel of a running attempt by its owner (its job ended): RUNNING → CANCELLED. */
export function cancelAttemptWrite(ref: AttemptRef, entry: AttemptEntry): TaskWrite {
  return {
    UpdateExpression: `SET #status = :cancelled, ${APPEND_HISTORY} REMOVE activeKind, activeSort, leaseExpiresAt`,
    ConditionExpression: OWNER_FENCE,
    ExpressionAttributeNames: { ...OWNER_NAMES, '#history': 'history' },
    ExpressionAttributeValues: ownerValues(ref, { ':cancelled': 'CANCELLED', ...historyValues(entry) }),
  };
}

/**
 * cancel of a task nobody runs (its job ended): PENDING → CANCELLED. No attempt ends. With
 * `jobStatus` (the job's end, services/job-end.ts) the task is marked in the same write
 * (`jobEnded`), so it can neither be claimed nor, once claimed, extend its lease. Refused
 * when the task is no longer PENDING (a worker claimed it meanwhile): then markJobEndedWrite.
 */
export function cancelPendingWrite(jobStatus?: string): TaskWrite {
  const mark = jobStatus === undefined ? '' : ', jobEnded = :ended';
  return {
    UpdateExpression: `SET #status = :cancelled${mark} REMOVE activeKind, activeSort, leaseExpiresAt`,
    ConditionExpression: '#status = :pending',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':cancelled': 'CANCELLED', ':pending': 'PENDING', ...(jobStatus === undefined ? {} : { ':ended': jobStatus }) },
  };
}

/**
 * The job ended (cancelled or failed): mark the task whatever its state, so the next lease
 * extension of any attempt of it (running now, or claimed between the job's end and this
 * write) is refused with JobEndedError. Only an item that exists is written. Not a
 * transition: status, owner and lease stay; the attempt's own cancel (fenced on owner and
 * attempt) or the checker's reclaim ends it.
 *
 *   end job ── list tasks (m-3 PENDING) ──── cancel m-3 ✗ (RUNNING now) ── mark m-3 ✓
 *   worker:          (job read: RUNNING) claim m-3 ✓ ──── hb ✓ ──────────────── hb ✗ JobEndedError
 */
export function markJobEndedWrite(jobStatus: string): TaskWrite {
  return {
    UpdateExpression: 'SET jobEnded = :ended',
    ConditionExpression: 'attribute_exists(#pk)',
    ExpressionAttributeNames: { '#pk': 'pk' },
    ExpressionAttributeValues: { ':ended': jobStatus },
  };
}

/** requeue (checker): a PENDING task whose retry message was lost; refresh requeuedAt once. */
export function touchRequeuedWrite(seenRequeuedAt: number | undefined, now: number): TaskWrite {
  return {
    UpdateExpression: 'SET requeuedAt = :now',
    ConditionExpression: '#status = :pending AND requeuedAt = :seen',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':pending': 'PENDING', ':seen': seenRequeuedAt, ':now': now },
  };
}

/** redrive (checker): count a resend of a dead-lettered, never-claimed task. */
export function redriveWrite(attempt: number, now: number): TaskWrite {
  return {
    UpdateExpression: 'SET redrives = if_not_exists(redrives, :zero) + :one, requeuedAt = :now',
    ConditionExpression: '#status = :pending AND #attempt = :attempt',
    ExpressionAttributeNames: { '#status': 'status', '#attempt': 'attempt' },
    ExpressionAttributeValues: { ':pending': 'PENDING', ':attempt': attempt, ':zero': 0, ':one': 1, ':now': now },
    ReturnValues: 'UPDATED_NEW',
  };
}

/** True when `current` shows the attempt `ref` already committed (its response was lost). */
export function committedBy(ref: AttemptRef, current: TaskRecord | undefined): boolean {
  return current?.status === 'COMMITTED' && current.owner === ref.owner && current.committedAttempt === ref.attempt;
}
