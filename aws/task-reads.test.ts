/**
 * The reducer's listing of a step's map outputs (TaskReads.listMapOutputs, in aws/task-reads.ts): a projected,
 * consistent, paged Query of the step's map output items (written by the map commits),
 * parsed to the four fields a reducer reads; and the early reducer's listing of the step's
 * map tasks (TaskStore.listMapTasks), the same fields from the task items.
 * Against a mocked document client; the emulator tests (test/pipeline/merge-factor,
 * slow-start, wordcount) read real map outputs through it.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import type { AwsClients } from './clients.js';
import { TaskStore } from './task-store.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(doc);
const store = new TaskStore({ doc } as unknown as AwsClients, 'tbl');

beforeEach(() => mock.reset());

describe('listMapOutputs', () => {
  it('asks for the map output items of the step (not the task items), consistently, with a projection', async () => {
    const output = { key: 'tmp/j1/m-00000-1', offsets: [0, 10, 20] };
    mock.on(QueryCommand).resolves({ Items: [{ taskId: 's2-m-00000', index: 0, status: 'COMMITTED', output }] });
    expect(await store.listMapOutputs('j1', 1)).toEqual([{ taskId: 's2-m-00000', index: 0, status: 'COMMITTED', output }]);
    expect(mock.commandCalls(QueryCommand)[0]!.args[0].input).toMatchObject({
      TableName: 'tbl',
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      ExpressionAttributeValues: { ':pk': 'JOB#j1', ':sk': 'MAPOUT#s2-m-' },
      ProjectionExpression: '#t, #i, #s, #o',
      ConsistentRead: true,
    });
  });
});

describe('listMapTasks', () => {
  it('asks for the map tasks of the step with a projection, follows every page, and keeps the four fields', async () => {
    const output = { key: 'tmp/j1/m-00000-1', offsets: [0, 10, 20] };
    mock
      .on(QueryCommand)
      .resolvesOnce({ Items: [{ taskId: 'm-00000', index: 0, status: 'COMMITTED', output }], LastEvaluatedKey: { pk: 'JOB#j1', sk: 'TASK#s2-m-00000' } })
      .resolvesOnce({ Items: [{ taskId: 'm-00001', index: 1, status: 'RUNNING' }] });
    const got = await store.listMapTasks('j1', 1);
    expect(got).toEqual([
      { taskId: 'm-00000', index: 0, status: 'COMMITTED', output },
      { taskId: 'm-00001', index: 1, status: 'RUNNING' },
    ]);
    const calls = mock.commandCalls(QueryCommand).map((c) => c.args[0].input);
    expect(calls).toHaveLength(2);
    expect(calls[0]).toMatchObject({
      TableName: 'tbl',
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      ExpressionAttributeValues: { ':pk': 'JOB#j1', ':sk': 'TASK#s2-m-' },
      ProjectionExpression: '#t, #i, #s, #o',
      ExpressionAttributeNames: { '#t': 'taskId', '#i': 'index', '#s': 'status', '#o': 'output' },
      ConsistentRead: true,
    });
    expect(calls[1]!.ExclusiveStartKey).toEqual({ pk: 'JOB#j1', sk: 'TASK#s2-m-00000' });
  });

  it('a malformed item is an error naming it, not a silently missing output', async () => {
    mock.on(QueryCommand).resolves({ Items: [{ pk: 'JOB#j1', sk: 'TASK#m-00000', taskId: 'm-00000', index: 0, status: 'DONE' }] });
    await expect(store.listMapTasks('j1')).rejects.toThrow(/JOB#j1\/TASK#m-00000/);
  });
});
