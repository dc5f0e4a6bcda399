/**
 * Which of a worker's held jobs have ended, in one BatchGetItem per 100 jobs (the status
 * only, eventually consistent, as the worker's ended-job file check needs it:
 * worker/ended-jobs.ts). It replaced one GetItem per held job: a worker that ran many jobs
 * back to back holds the files of a dozen or more, and read them one by one.
 */
import { BatchGetCommand } from '@aws-sdk/lib-dynamodb';
import type { JobStatus } from '../core/model.js';
import type { AwsClients } from './clients.js';
import { jobKey } from './items.js';
import { isTerminal } from './job-store.js';

/** DynamoDB's limit of keys per BatchGetItem. */
export const BATCH_GET_MAX_KEYS = 100;
/** Rounds for keys DynamoDB left unprocessed (throttling); those still left count as not ended. */
const UNPROCESSED_ROUNDS = 3;

/** The job id of a job item or key (`pk` is `JOB#<jobId>`: aws/items.ts jobKey). */
const idOf = (item: Record<string, unknown>): string => String(item.pk).slice('JOB#'.length);

export class JobStatusReads {
  constructor(
    private readonly c: Pick<AwsClients, 'doc'>,
    private readonly table: string,
  ) {}

  /** The jobs among `jobIds` that have ended (a terminal status) or have no record. */
  async endedAmong(jobIds: readonly string[]): Promise<Set<string>> {
    const ended = new Set<string>();
    for (let i = 0; i < jobIds.length; i += BATCH_GET_MAX_KEYS) {
      const chunk = jobIds.slice(i, i + BATCH_GET_MAX_KEYS);
      const statuses = await this.statuses(chunk);
      for (const jobId of chunk) {
        if (!statuses.answered.has(jobId)) continue;
        const status = statuses.found.get(jobId);
        if (status === undefined || isTerminal(status)) ended.add(jobId);
      }
    }
    return ended;
  }

  /** Statuses of up to 100 jobs: `answered` holds every job DynamoDB processed (found or not). */
  private async statuses(jobIds: readonly string[]): Promise<{ answered: Set<string>; found: Map<string, JobStatus> }> {
    const found = new Map<string, JobStatus>();
    const pending = new Set(jobIds);
    let keys: Record<string, unknown>[] = jobIds.map((id) => jobKey(id));
    for (let round = 0; round < UNPROCESSED_ROUNDS && keys.length > 0; round++) {
      const out = await this.c.doc.send(
        new BatchGetCommand({
          RequestItems: { [this.table]: { Keys: keys, ProjectionExpression: 'pk, #s', ExpressionAttributeNames: { '#s': 'status' } } },
        }),
      );
      for (const item of out.Responses?.[this.table] ?? []) found.set(idOf(item), item.status as JobStatus);
      keys = (out.UnprocessedKeys?.[this.table]?.Keys ?? []) as Record<string, unknown>[];
      const left = new Set(keys.map(idOf));
      for (const id of pending) if (!left.has(id)) pending.delete(id);
    }
    return { answered: new Set(jobIds.filter((id) => !pending.has(id))), found };
  }
}
