/**
 * Task state transitions: one function each, every one a conditional write fenced
 * on status, owner and attempt (like graphile-worker). A lost condition throws
 * StaleStateError (or LeaseLostError for the owner's own transitions) carrying the
 * task item as it is now.
 */
import {
  GetCommand,
  PutCommand,
  QueryCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { LeaseLostError, StaleStateError } from '../core/errors.js';
import type { TaskRecord } from '../core/model.js';
import type { AwsClients } from './clients.js';
import { ACTIVE_TASK, fenced, isConditionFailure, itemToTask, jobKey, taskKey } from './items.js';
import { forEachLimit } from '../core/concurrency.js';

export type TaskItem = TaskRecord & { leaseExpiresAt?: number };

/** Who holds an attempt: the fence of every owner-side transition. */
export interface AttemptRef {
  readonly jobId: string;
  readonly taskId: string;
  readonly owner: string;
  readonly attempt: number;
}

const raw = (item: Record<string, unknown>) => ('pk' in item && typeof item.pk === 'object' ? unmarshall(item as never) : item);

function leaseLost(ref: AttemptRef, what: string) {
  return (current: Record<string, unknown> | undefined, cause: unknown) =>
    new LeaseLostError(
      `${what} refused: ${ref.jobId}/${ref.taskId} attempt ${ref.attempt} no longer owns its lease`,
      current && itemToTask(current),
      { cause, context: { ...ref } },
    );
}

// Owner fence shared by heartbeat, commit, fail and release.
const OWNER_FENCE = '#status = :running AND #owner = :owner AND #attempt = :attempt';

export class TaskStore {
  constructor(
    private readonly c: AwsClients,
    private readonly table: string,
  ) {}

  /**
   * Write new task records, never overwriting one that exists: a coordinator retried
   * while the first invocation still runs must not reset a task a worker already
   * claimed or committed. Chunks of 100 go in one transaction; when a chunk's
   * transaction loses a condition (a concurrent coordinator wrote some of them),
   * its items are put one by one, each only if absent.
   */
  async putNew(tasks: readonly TaskRecord[]): Promise<void> {
    const put = (t: TaskRecord) => ({
      TableName: this.table,
      Item: { ...taskKey(t.jobId, t.taskId), itemType: 'TASK', ...t },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    for (let i = 0; i < tasks.length; i += 100) {
      const chunk = tasks.slice(i, i + 100);
      try {
        await this.c.doc.send(new TransactWriteCommand({ TransactItems: chunk.map((t) => ({ Put: put(t) })) }));
      } catch (err) {
        if (!isConditionFailure(err)) throw err;
        await forEachLimit(chunk, 8, async (t) => {
          try {
            await this.c.doc.send(new PutCommand(put(t)));
          } catch (e) {
            if (!isConditionFailure(e)) throw e;
          }
        });
      }
    }
  }

  /** All tasks of a job (consistent), optionally of one kind. */
  async list(jobId: string, kind?: 'map' | 'reduce'): Promise<TaskItem[]> {
    const items: TaskItem[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.c.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
          ExpressionAttributeValues: { ':pk': jobKey(jobId).pk, ':sk': kind ? `TASK#${kind[0]}-` : 'TASK#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const it of out.Items ?? []) items.push(itemToTask(it));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** One task (consistent read), or undefined. */
  async get(jobId: string, taskId: string): Promise<TaskItem | undefined> {
    const out = await this.c.doc.send(
      new GetCommand({ TableName: this.table, Key: taskKey(jobId, taskId), ConsistentRead: true }),
    );
    return out.Item ? itemToTask(out.Item) : undefined;
  }

  /**
   * claim: PENDING → RUNNING, owned by `owner`, attempt + 1, lease until now + leaseMs.
   * Throws StaleStateError with the current item when the task is not PENDING
   * (a duplicate message, already committed, failed or cancelled).
   */
  async claim(jobId: string, taskId: string, owner: string, now: number, leaseMs: number): Promise<TaskItem> {
    const out = await this.updateTask(
      jobId,
      taskId,
      {
        UpdateExpression:
          'SET #status = :running, #owner = :owner, #attempt = #attempt + :one, claimedAt = :now, ' +
          'leaseExpiresAt = :lease, activeKind = :active, activeSort = :sort REMOVE requeuedAt',
        ConditionExpression: '#status = :pending',
        ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner', '#attempt': 'attempt' },
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
      },
      (current, cause) =>
        new StaleStateError(`${jobId}/${taskId} is not claimable`, current && itemToTask(current), {
          cause,
          context: { jobId, taskId },
        }),
    );
    return itemToTask(out.Attributes as Record<string, unknown>);
  }

  /** heartbeat: extend the lease of an attempt this worker still owns. */
  async heartbeat(ref: AttemptRef, now: number, leaseMs: number): Promise<void> {
    await this.updateTask(
      ref.jobId,
      ref.taskId,
      {
        UpdateExpression: 'SET leaseExpiresAt = :lease',
        ConditionExpression: OWNER_FENCE,
        ...ownerValues(ref, { ':lease': now + leaseMs }),
      },
      leaseLost(ref, 'Heartbeat'),
    );
  }

  /**
   * commit: RUNNING → COMMITTED, together with the job's commit counter and the
   * attempt's counters, in one transaction. It holds only while the attempt owns
   * an unexpired lease:
   *
   *   worker A: claim(attempt 3) ...... paused (SIGSTOP) ............ resume → commit ✗
   *   lease:    |---- 10 s ----| expired
   *   checker:                   reclaim → PENDING
   *   worker B:                            claim(attempt 4) → commit ✓
   *
   * A's commit fails on `#attempt = :attempt` (4 ≠ 3), or on the lease if nobody
   * reclaimed yet but the lease ran out.
   */
  async commit(
    ref: AttemptRef,
    now: number,
    result: { output?: { key: string; offsets: number[] }; counters: Record<string, number> },
  ): Promise<void> {
    const kind = ref.taskId.startsWith('m-') ? 'mapsCommitted' : 'reducesCommitted';
    // DynamoDB rejects unused names: '#counters' only when a counter is added (an empty reduce has none).
    const names: Record<string, string> = { '#done': kind };
    const values: Record<string, unknown> = { ':one': 1 };
    const adds = Object.entries(result.counters)
      .filter(([, v]) => v !== 0)
      .map(([name, v], i) => {
        names['#counters'] = 'counters';
        names[`#c${i}`] = name;
        values[`:c${i}`] = v;
        return `#counters.#c${i} :c${i}`;
      });
    const input: TransactWriteCommandInput = {
      TransactItems: [
        {
          Update: {
            TableName: this.table,
            Key: taskKey(ref.jobId, ref.taskId),
            UpdateExpression:
              'SET #status = :committed, committedAttempt = :attempt, committedAt = :now' +
              (result.output ? ', #output = :output' : '') +
              ' REMOVE activeKind, activeSort, leaseExpiresAt',
            ConditionExpression: `${OWNER_FENCE} AND leaseExpiresAt >= :now`,
            ExpressionAttributeNames: {
              '#status': 'status',
              '#owner': 'owner',
              '#attempt': 'attempt',
              ...(result.output ? { '#output': 'output' } : {}),
            },
            ExpressionAttributeValues: {
              ':running': 'RUNNING',
              ':committed': 'COMMITTED',
              ':owner': ref.owner,
              ':attempt': ref.attempt,
              ':now': now,
              ...(result.output ? { ':output': result.output } : {}),
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          },
        },
        {
          Update: {
            TableName: this.table,
            Key: jobKey(ref.jobId),
            UpdateExpression: `ADD #done :one${adds.length ? `, ${adds.join(', ')}` : ''}`,
            // CREATING too: map tasks are sent before the coordinator marks the job RUNNING.
            ConditionExpression: '#status IN (:creatingJob, :runningJob)',
            ExpressionAttributeNames: { ...names, '#status': 'status' },
            ExpressionAttributeValues: { ...values, ':runningJob': 'RUNNING', ':creatingJob': 'CREATING' },
          },
        },
      ],
    };
    await fenced(() => this.c.doc.send(new TransactWriteCommand(input)), leaseLost(ref, 'Commit'), raw);
  }

  /**
   * fail: a failed attempt goes back to PENDING (the caller sends a delayed
   * message) or, with no attempts left, to FAILED. Returns the new status.
   */
  async fail(ref: AttemptRef, now: number, error: string, exhausted: boolean): Promise<'PENDING' | 'FAILED'> {
    return this.endAttempt(ref, 'failures', OWNER_FENCE, { now, error, exhausted }, leaseLost(ref, 'Fail'));
  }

  /** release: give a running attempt back untouched (graceful shutdown); not counted as a failure. */
  async release(ref: AttemptRef, now: number): Promise<void> {
    await this.updateTask(
      ref.jobId,
      ref.taskId,
      {
        UpdateExpression: 'SET #status = :pending, requeuedAt = :now REMOVE leaseExpiresAt',
        ConditionExpression: OWNER_FENCE,
        ...ownerValues(ref, { ':pending': 'PENDING', ':now': now }),
      },
      leaseLost(ref, 'Release'),
    );
  }

  /**
   * reclaim (checker): take a task back from a dead owner. Holds only if the task
   * is still the attempt the checker saw and its lease has run out, so a live
   * worker's lease is never stolen and two checkers cannot both reclaim it.
   *
   *   owner:   hb  hb  hb  ✝ (no more heartbeats)
   *   lease:   ───────────────|expired
   *   checker A:                 reclaim(attempt 3) ✓ → republish
   *   checker B:                 reclaim(attempt 3) ✗ (status is PENDING now)
   */
  async reclaim(task: TaskItem, now: number, exhausted: boolean): Promise<'PENDING' | 'FAILED'> {
    const ref = { jobId: task.jobId, taskId: task.taskId, owner: task.owner ?? '', attempt: task.attempt };
    const error = `worker ${task.owner} stopped heartbeating during attempt ${task.attempt}`;
    return this.endAttempt(
      ref,
      'stalls',
      `${OWNER_FENCE} AND leaseExpiresAt < :now`,
      { now, error, exhausted },
      (current, cause) =>
        new StaleStateError(`${task.jobId}/${task.taskId} changed before reclaim`, current && itemToTask(current), {
          cause,
          context: { jobId: task.jobId, taskId: task.taskId, attempt: task.attempt },
        }),
    );
  }

  /**
   * The write shared by fail and reclaim: the attempt ends, `count` goes up by one, and
   * the task is requeued (PENDING, in the active index) or, with no attempts left, FAILED.
   */
  private async endAttempt(
    ref: AttemptRef,
    count: 'failures' | 'stalls',
    condition: string,
    o: { now: number; error: string; exhausted: boolean },
    onLost: (current: Record<string, unknown> | undefined, cause: unknown) => StaleStateError,
  ): Promise<'PENDING' | 'FAILED'> {
    const status = o.exhausted ? 'FAILED' : 'PENDING';
    const bump = `${count} = ${count} + :one, lastError = :err`;
    // DynamoDB rejects unused values: `:now` only when the update or the condition uses it.
    const usesNow = !o.exhausted || condition.includes(':now');
    await this.updateTask(
      ref.jobId,
      ref.taskId,
      {
        UpdateExpression: o.exhausted
          ? `SET #status = :next, ${bump} REMOVE activeKind, activeSort, leaseExpiresAt`
          : `SET #status = :next, ${bump}, requeuedAt = :now REMOVE leaseExpiresAt`,
        ConditionExpression: condition,
        ...ownerValues(ref, {
          ':next': status,
          ':err': o.error.slice(0, 4000),
          ':one': 1,
          ...(usesNow ? { ':now': o.now } : {}),
        }),
      },
      onLost,
    );
    return status;
  }

  /** requeue (checker): a PENDING task whose retry message was lost; refresh requeuedAt once. */
  async touchRequeued(task: TaskItem, now: number): Promise<void> {
    await this.updateTask(
      task.jobId,
      task.taskId,
      {
        UpdateExpression: 'SET requeuedAt = :now',
        ConditionExpression: '#status = :pending AND requeuedAt = :seen',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':seen': task.requeuedAt, ':now': now },
      },
      (current, cause) => new StaleStateError(`${task.jobId}/${task.taskId} changed before requeue`, current, { cause }),
    );
  }

  /**
   * redrive (checker): the message of a task nobody claimed went to the dead-letter
   * queue, so the task is sent again. Counts the redrive and sets requeuedAt (so a lost
   * resend is caught like a lost retry). Holds only while the task is still the PENDING
   * attempt the checker saw. Returns the number of redrives so far.
   */
  async redrive(task: TaskItem, now: number): Promise<number> {
    const out = await this.updateTask(
      task.jobId,
      task.taskId,
      {
        UpdateExpression: 'SET redrives = if_not_exists(redrives, :zero) + :one, requeuedAt = :now',
        ConditionExpression: '#status = :pending AND #attempt = :attempt',
        ExpressionAttributeNames: { '#status': 'status', '#attempt': 'attempt' },
        ExpressionAttributeValues: { ':pending': 'PENDING', ':attempt': task.attempt, ':zero': 0, ':one': 1, ':now': now },
        ReturnValues: 'UPDATED_NEW',
      },
      (current, cause) =>
        new StaleStateError(`${task.jobId}/${task.taskId} changed before redrive`, current && itemToTask(current), {
          cause,
        }),
    );
    return Number(out.Attributes?.redrives ?? 1);
  }

  /** cancel: a task of a cancelled or failed job stops; only PENDING or RUNNING tasks move. */
  async cancel(jobId: string, taskId: string): Promise<void> {
    await this.updateTask(
      jobId,
      taskId,
      {
        UpdateExpression: 'SET #status = :cancelled REMOVE activeKind, activeSort, leaseExpiresAt',
        ConditionExpression: '#status IN (:pending, :running)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':cancelled': 'CANCELLED', ':pending': 'PENDING', ':running': 'RUNNING' },
      },
      (current, cause) => new StaleStateError(`${jobId}/${taskId} is already finished`, current, { cause }),
    );
  }

  /**
   * One conditional update of a task item. A lost condition throws `onLost(current item)`
   * (the item as it is now, returned by DynamoDB with the failure).
   */
  private updateTask(
    jobId: string,
    taskId: string,
    params: Omit<UpdateCommandInput, 'TableName' | 'Key'>,
    onLost: (current: Record<string, unknown> | undefined, cause: unknown) => StaleStateError,
  ) {
    return fenced(
      () =>
        this.c.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: taskKey(jobId, taskId),
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
            ...params,
          }),
        ),
      onLost,
      raw,
    );
  }
}

function ownerValues(ref: AttemptRef, extra: Record<string, unknown>) {
  return {
    ExpressionAttributeNames: { '#status': 'status', '#owner': 'owner', '#attempt': 'attempt' },
    ExpressionAttributeValues: { ':running': 'RUNNING', ':owner': ref.owner, ':attempt': ref.attempt, ...extra },
  };
}
