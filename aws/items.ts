/**
 * Key schema of the state table and the mapping between items and records.
 * See core/resources.ts for the table and docs/architecture.md for the layout.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { StaleStateError } from '../core/errors.js';
import type { JobRecord, TaskRecord, WorkerRecord } from '../core/model.js';

export const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' });
export const taskKey = (jobId: string, taskId: string) => ({ pk: `JOB#${jobId}`, sk: `TASK#${taskId}` });
export const workerKey = (workerId: string) => ({ pk: `WORKER#${workerId}`, sk: 'WORKER' });
export const guardKey = (name: string) => ({ pk: `GUARD#${name}`, sk: 'GUARD' });

/** Values of `activeKind` in the sparse `active` index. */
export const ACTIVE_JOB = 'JOB';
export const ACTIVE_TASK = 'TASK';

type Item = Record<string, unknown>;

const KEY_ATTRS = ['pk', 'sk', 'itemType', 'typeSort', 'activeKind', 'activeSort', 'expiresAt'];

function stripKeys(item: Item): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!KEY_ATTRS.includes(k)) out[k] = v;
  return out;
}

export function itemToJob(item: Item): JobRecord {
  return stripKeys(item) as unknown as JobRecord;
}

export function itemToTask(item: Item): TaskRecord & { leaseExpiresAt?: number } {
  return stripKeys(item) as unknown as TaskRecord & { leaseExpiresAt?: number };
}

export function itemToWorker(item: Item): WorkerRecord {
  return stripKeys(item) as unknown as WorkerRecord;
}

/** The current item DynamoDB returned with a failed condition, if any. */
export function currentItemOf(err: unknown): Item | undefined {
  if (err instanceof ConditionalCheckFailedException) return err.Item as Item | undefined;
  if (err instanceof TransactionCanceledException) {
    const reason = err.CancellationReasons?.find((r) => r.Code === 'ConditionalCheckFailed');
    return reason?.Item as Item | undefined;
  }
  return undefined;
}

/** True for a lost condition, in a single write or in a transaction. */
export function isConditionFailure(err: unknown): boolean {
  if (err instanceof ConditionalCheckFailedException) return true;
  if (err instanceof TransactionCanceledException) {
    return err.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed') ?? false;
  }
  return (err as Error)?.name === 'ConditionalCheckFailedException';
}

/**
 * Run a conditional write; a lost condition becomes the domain error `make`
 * builds from the current item (unmarshalled when the SDK returned raw values).
 */
export async function fenced<T>(
  write: () => Promise<T>,
  make: (current: Item | undefined, cause: unknown) => StaleStateError,
  unmarshall?: (raw: Item) => Item,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const raw = currentItemOf(err);
    throw make(raw && unmarshall ? unmarshall(raw) : raw, err);
  }
}
