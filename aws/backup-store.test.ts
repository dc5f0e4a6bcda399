/**
 * The repost of a backup whose message was lost, against a mocked DynamoDB document
 * client: the one conditional write sent (fenced on the `backupPostedAt` the checker read,
 * and on nobody having claimed the backup), and its refusal as a StaleStateError carrying
 * the current record. Plus the checker's rule for when a posted backup is overdue.
 * test/fault/speculation-checker.test.ts runs the same against the emulator.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { SHORT_TIMINGS } from '../core/config.js';
import { isErrorNamed, type StaleStateError } from '../core/errors.js';
import type { TaskRecord } from '../core/model.js';
import { backupMessageOverdue } from '../services/speculation.js';
import { BackupStore } from './backup-store.js';
import type { AwsClients } from './clients.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(doc);
const store = new BackupStore({ doc } as unknown as AwsClients, 'tbl');

const NOW = 1_700_000_000_000;
const POSTED = NOW - 6000;
const KEY = { pk: 'JOB#j1', sk: 'TASK#m-00003' };

function posted(over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    jobId: 'j1', taskId: 'm-00003', kind: 'map', index: 3, status: 'RUNNING', attempt: 1, failures: 0, stalls: 0,
    owner: 'w1', claimedAt: NOW - 20_000, leaseExpiresAt: NOW + 1000, backupAttempt: 2, backupPostedAt: POSTED, ...over,
  };
}

beforeEach(() => mock.reset());

describe('BackupStore.repost', () => {
  it('moves backupPostedAt from the value read, only while the backup is unclaimed and the task runs', async () => {
    mock.on(UpdateCommand).resolves({});
    await store.repost(posted(), NOW);
    const calls = mock.commandCalls(UpdateCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      TableName: 'tbl',
      Key: KEY,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      UpdateExpression: 'SET backupPostedAt = :now',
      ConditionExpression:
        '#status = :running AND backupPostedAt = :seen AND attribute_exists(backupAttempt) AND attribute_not_exists(backupClaimedAt)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':running': 'RUNNING', ':seen': POSTED, ':now': NOW },
    });
  });

  it('is refused once another checker reposted it (or a worker claimed it): StaleStateError with the record', async () => {
    const current = posted({ backupPostedAt: NOW - 10 });
    mock.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {}, Item: marshall({ ...KEY, ...current }) }),
    );
    const err = await store.repost(posted(), NOW).then(() => undefined, (e: unknown) => e);
    expect(isErrorNamed(err, 'StaleStateError')).toBe(true);
    expect((err as StaleStateError<TaskRecord>).current?.backupPostedAt).toBe(NOW - 10);
  });

  it('refuses a task with no backup posted without writing', async () => {
    const err = await store.repost(posted({ backupAttempt: undefined, backupPostedAt: undefined }), NOW).then(() => undefined, (e: unknown) => e);
    expect(isErrorNamed(err, 'StaleStateError')).toBe(true);
    expect(mock.commandCalls(UpdateCommand)).toHaveLength(0);
  });
});

describe('backupMessageOverdue', () => {
  const grace = SHORT_TIMINGS.requeueGraceMs;
  it('holds for a running task whose posted backup nobody claimed for longer than requeueGraceMs', () => {
    expect(backupMessageOverdue(posted({ backupPostedAt: NOW - grace - 1 }), NOW, SHORT_TIMINGS)).toBe(true);
    expect(backupMessageOverdue(posted({ backupPostedAt: NOW - grace }), NOW, SHORT_TIMINGS)).toBe(false);
  });

  it('never for a claimed or ended backup, a task with none, or a task no longer running', () => {
    const old = NOW - grace - 1;
    expect(backupMessageOverdue(posted({ backupPostedAt: old, backupClaimedAt: old + 1 }), NOW, SHORT_TIMINGS)).toBe(false);
    expect(backupMessageOverdue(posted({ backupPostedAt: old, backupEndedAt: old + 1 }), NOW, SHORT_TIMINGS)).toBe(false);
    expect(backupMessageOverdue(posted({ backupAttempt: undefined, backupPostedAt: undefined }), NOW, SHORT_TIMINGS)).toBe(false);
    expect(backupMessageOverdue(posted({ backupPostedAt: old, status: 'COMMITTED' }), NOW, SHORT_TIMINGS)).toBe(false);
  });
});
