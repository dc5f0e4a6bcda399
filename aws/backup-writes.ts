/**
 * The conditional writes of a task's speculative backup attempt, beside the primary's in
 * aws/task-writes.ts. The backup holds its own lease attributes (`backupOwner`,
 * `backupAttempt`, `backupLeaseExpiresAt`), so the primary's fence is untouched; the two
 * attempts exclude each other through `status` alone: whichever commit turns it to
 * COMMITTED first wins, and every later write of the other attempt is refused.
 * docs/reliability.md has the timeline.
 */
import type { AttemptEntry } from '../core/model.js';
import { type AttemptProgress, type AttemptRef, NOT_JOB_ENDED, type TaskWrite } from './task-writes.js';

/** The backup's fence: it still holds its lease, and the task is not done. */
export const BACKUP_FENCE = 'backupOwner = :bowner AND backupAttempt = :battempt AND #status IN (:running, :pending)';
const APPEND_HISTORY = '#history = list_append(if_not_exists(#history, :noHistory), :entry)';

function backupValues(ref: Pick<AttemptRef, 'owner' | 'attempt'>, extra: Record<string, unknown>): Record<string, unknown> {
  return { ':bowner': ref.owner, ':battempt': ref.attempt, ':running': 'RUNNING', ':pending': 'PENDING', ...extra };
}

/**
 * post (checker): mark a running attempt's task for one backup, numbered after it. Holds
 * only once per task (`backupAttempt` is never removed), so overlapping checkers post once.
 */
export function postBackupWrite(seenAttempt: number, now: number): TaskWrite {
  return {
    UpdateExpression: 'SET backupAttempt = :backup, backupPostedAt = :now',
    ConditionExpression: '#status = :running AND #attempt = :seen AND attribute_not_exists(backupAttempt)',
    ExpressionAttributeNames: { '#status': 'status', '#attempt': 'attempt' },
    ExpressionAttributeValues: { ':running': 'RUNNING', ':seen': seenAttempt, ':backup': seenAttempt + 1, ':now': now },
  };
}

/**
 * repost (checker): a posted backup nobody claimed within the bound (its message was lost)
 * is sent again by the one checker whose write moves `backupPostedAt` from the value it
 * read. The task keeps its one `backupAttempt`; the claim stays once-only, so a late
 * original and the resent message still start one backup.
 *
 *   checker A: read postedAt=P ──▶ SET postedAt=now IF postedAt=P ✓ ──▶ send message
 *   checker B: read postedAt=P ──▶ SET postedAt=now IF postedAt=P ✗ (A moved it) ──▶ nothing
 */
export function repostBackupWrite(seenPostedAt: number, now: number): TaskWrite {
  return {
    UpdateExpression: 'SET backupPostedAt = :now',
    ConditionExpression:
      '#status = :running AND backupPostedAt = :seen AND attribute_exists(backupAttempt) AND attribute_not_exists(backupClaimedAt)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: { ':running': 'RUNNING', ':seen': seenPostedAt, ':now': now },
  };
}

/** claim of the posted backup by a worker: once, while the task is not done. */
export function claimBackupWrite(backupAttempt: number, owner: string, now: number, leaseMs: number): TaskWrite {
  return {
    UpdateExpression: 'SET backupOwner = :bowner, backupClaimedAt = :now, backupLeaseExpiresAt = :lease',
    ConditionExpression: 'backupAttempt = :battempt AND attribute_not_exists(backupClaimedAt) AND #status IN (:running, :pending)',
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: backupValues({ owner, attempt: backupAttempt }, { ':now': now, ':lease': now + leaseMs }),
    ReturnValues: 'ALL_NEW',
  };
}

/** heartbeat of the backup: extend its own lease and report its progress. */
export function backupHeartbeatWrite(ref: AttemptRef, now: number, leaseMs: number, progress?: AttemptProgress): TaskWrite {
  return {
    UpdateExpression: `SET backupLeaseExpiresAt = :lease${progress ? ', backupProgress = :p, progressTotal = :pt' : ''}`,
    ConditionExpression: `${BACKUP_FENCE} AND ${NOT_JOB_ENDED}`,
    ExpressionAttributeNames: { '#status': 'status' },
    ExpressionAttributeValues: backupValues(ref, {
      ':lease': now + leaseMs,
      ...(progress ? { ':p': progress.done, ':pt': progress.total } : {}),
    }),
  };
}

/**
 * The task half of the backup's commit: the task becomes the backup's (owner, attempt,
 * committed attempt), its lease attributes go. Refused once the primary committed.
 */
export function commitBackupTaskWrite(ref: AttemptRef, now: number, output: object | undefined, entry: AttemptEntry): TaskWrite {
  return {
    UpdateExpression:
      'SET #status = :committed, #owner = :bowner, #attempt = :battempt, committedAttempt = :battempt, ' +
      `committedAt = :now, backupEndedAt = :now${output ? ', #output = :output' : ''}, ${APPEND_HISTORY} ` +
      'REMOVE activeKind, activeSort, leaseExpiresAt, backupOwner, backupLeaseExpiresAt',
    ConditionExpression: `${BACKUP_FENCE} AND backupLeaseExpiresAt >= :now`,
    ExpressionAttributeNames: {
      '#status': 'status',
      '#owner': 'owner',
      '#attempt': 'attempt',
      '#history': 'history',
      ...(output ? { '#output': 'output' } : {}),
    },
    ExpressionAttributeValues: backupValues(ref, {
      ':committed': 'COMMITTED',
      ':now': now,
      ':noHistory': [],
      ':entry': [entry],
      ...(output ? { ':output': output } : {}),
    }),
  };
}

/** The task's status an ending backup expects; it decides the rest of the write. */
export type TaskStatusSeen = 'RUNNING' | 'PENDING' | 'COMMITTED';

/**
 * end of the backup without its commit (failed, released, cancelled, reclaimed, superseded):
 * its lease attributes go, its history entry is appended. When the primary is gone too
 * (PENDING), `attempt` moves up to the backup's number so the next claim does not reuse it.
 * `expired`: the checker's reclaim, only once the backup's lease ran out.
 */
export function endBackupWrite(ref: AttemptRef, now: number, seen: TaskStatusSeen, entry: AttemptEntry, expired = false): TaskWrite {
  return {
    UpdateExpression:
      `SET backupEndedAt = :now, ${APPEND_HISTORY}${seen === 'PENDING' ? ', #attempt = :battempt' : ''} ` +
      'REMOVE backupOwner, backupLeaseExpiresAt',
    ConditionExpression:
      `backupOwner = :bowner AND backupAttempt = :battempt AND #status = :seen${expired ? ' AND backupLeaseExpiresAt < :now' : ''}`,
    ExpressionAttributeNames: { '#status': 'status', '#history': 'history', ...(seen === 'PENDING' ? { '#attempt': 'attempt' } : {}) },
    ExpressionAttributeValues: {
      ':bowner': ref.owner,
      ':battempt': ref.attempt,
      ':seen': seen,
      ':now': now,
      ':noHistory': [],
      ':entry': [entry],
    },
  };
}

/**
 * superseded (the primary attempt, after the backup committed first): only its history
 * entry is written; the task is the winner's and stays as it is.
 */
export function supersededWrite(ref: AttemptRef, entry: AttemptEntry): TaskWrite {
  return {
    UpdateExpression: `SET ${APPEND_HISTORY}`,
    ConditionExpression: '#status = :committed AND committedAttempt <> :attempt',
    ExpressionAttributeNames: { '#status': 'status', '#history': 'history' },
    ExpressionAttributeValues: { ':committed': 'COMMITTED', ':attempt': ref.attempt, ':noHistory': [], ':entry': [entry] },
  };
}
