/**
 * The worker's ended-job check reads the statuses of every held job in BatchGetItems of 100
 * (JobStatusReads, aws/job-statuses.ts). Against a mocked document client; the emulator
 * test test/pipeline/scratch-cleanup.test.ts drops real ended jobs through it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { BATCH_GET_MAX_KEYS, JobStatusReads } from './job-statuses.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(doc);
const reads = new JobStatusReads({ doc }, 'tbl');
const key = (id: string) => ({ pk: `JOB#${id}`, sk: 'JOB' });

beforeEach(() => mock.reset());

describe('JobStatusReads.endedAmong', () => {
  it('reads 250 held jobs in 3 batch calls (no GetItem): terminal or missing jobs have ended, running ones have not', async () => {
    const ids = Array.from({ length: 250 }, (_, i) => `j${i}`);
    const status = (i: number) => (i % 3 === 0 ? 'SUCCEEDED' : i % 3 === 1 ? 'RUNNING' : 'CANCELLED');
    mock.on(BatchGetCommand).callsFake((input: { RequestItems: Record<string, { Keys: { pk: string }[] }> }) => ({
      // j5 has no record (its job item expired).
      Responses: { tbl: input.RequestItems.tbl!.Keys.filter((k) => k.pk !== 'JOB#j5').map((k) => ({ pk: k.pk, status: status(Number(k.pk.slice(5))) })) },
    }));
    const ended = await reads.endedAmong(ids);
    expect(mock.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems!.tbl!.Keys!.length)).toEqual([BATCH_GET_MAX_KEYS, BATCH_GET_MAX_KEYS, 50]);
    expect(mock.commandCalls(GetCommand)).toHaveLength(0);
    expect(mock.commandCalls(BatchGetCommand)[0]!.args[0].input.RequestItems!.tbl).toMatchObject({ ProjectionExpression: 'pk, #s', ExpressionAttributeNames: { '#s': 'status' } });
    expect(ended.has('j0') && ended.has('j2') && ended.has('j5')).toBe(true);
    expect(ended.has('j1') || ended.has('j4')).toBe(false);
    expect(ended.size).toBe(ids.filter((_, i) => i % 3 !== 1 || i === 5).length);
  });

  it('asks again for unprocessed keys; a job still unprocessed counts as not ended (looked at next time)', async () => {
    mock
      .on(BatchGetCommand)
      .resolvesOnce({ Responses: { tbl: [{ pk: 'JOB#a', status: 'FAILED' }] }, UnprocessedKeys: { tbl: { Keys: [key('b'), key('c')] } } })
      .resolvesOnce({ Responses: { tbl: [] }, UnprocessedKeys: { tbl: { Keys: [key('c')] } } })
      .resolves({ Responses: { tbl: [] }, UnprocessedKeys: { tbl: { Keys: [key('c')] } } });
    const ended = await reads.endedAmong(['a', 'b', 'c']);
    // b was processed in the second round and not found: no record, ended. c was never answered.
    expect([...ended].sort()).toEqual(['a', 'b']);
    expect(mock.commandCalls(BatchGetCommand)[1]!.args[0].input.RequestItems!.tbl!.Keys).toEqual([key('b'), key('c')]);
  });
});
