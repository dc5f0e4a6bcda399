/**
 * Worker heartbeats and checker guards. Liveness is always judged from the
 * heartbeat timestamp; the TTL attribute `expiresAt` only lets DynamoDB garbage-collect
 * old items (lazily on AWS, never in emulators).
 */
import { BatchGetCommand, DeleteCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { WorkerRecord } from '../core/model.js';
import type { AwsClients } from './clients.js';
import { guardKey, isConditionFailure, itemToWorker, workerKey } from './items.js';

/** Keep dead worker items for a day for `mapreduce status`, then let TTL collect them. */
const WORKER_TTL_SECONDS = 24 * 3600;

export class WorkerStore {
  constructor(
    private readonly c: AwsClients,
    private readonly table: string,
  ) {}

  /** heartbeat: upsert this worker's item with the current time. */
  async beat(worker: WorkerRecord): Promise<void> {
    await this.c.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...workerKey(worker.workerId),
          itemType: 'WORKER',
          typeSort: worker.workerId,
          ...worker,
          expiresAt: Math.floor(worker.heartbeatAt / 1000) + WORKER_TTL_SECONDS,
        },
      }),
    );
  }

  /** A stopping worker removes its item so status does not show it as stale. */
  async remove(workerId: string): Promise<void> {
    await this.c.doc.send(new DeleteCommand({ TableName: this.table, Key: workerKey(workerId) }));
  }

  /** Heartbeat items of the given workers (missing ones are simply absent). */
  async get(workerIds: readonly string[]): Promise<Map<string, WorkerRecord>> {
    const found = new Map<string, WorkerRecord>();
    const ids = [...new Set(workerIds)];
    for (let i = 0; i < ids.length; i += 100) {
      let keys: Record<string, unknown>[] = ids.slice(i, i + 100).map(workerKey);
      while (keys.length > 0) {
        const out = await this.c.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const it of out.Responses?.[this.table] ?? []) {
          const w = itemToWorker(it);
          found.set(w.workerId, w);
        }
        keys = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  async list(): Promise<WorkerRecord[]> {
    const out = await this.c.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byType',
        KeyConditionExpression: 'itemType = :t',
        ExpressionAttributeValues: { ':t': 'WORKER' },
      }),
    );
    return (out.Items ?? []).map(itemToWorker);
  }

  /**
   * Take the named guard until `now + ttlMs`, unless another holder has it
   * unexpired. Overlapping checker runs thus act once per guard period.
   */
  async acquireGuard(name: string, holder: string, now: number, ttlMs: number): Promise<boolean> {
    try {
      await this.c.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...guardKey(name),
            holder,
            heldUntil: now + ttlMs,
            expiresAt: Math.floor((now + ttlMs) / 1000) + 3600,
          },
          ConditionExpression: 'attribute_not_exists(pk) OR heldUntil < :now OR holder = :holder',
          ExpressionAttributeValues: { ':now': now, ':holder': holder },
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }
}
