/**
 * What the launcher's moto patches (local/moto-patches.ts) must keep: a cancelled
 * transaction leaves every item it named as it was (updated, created or deleted), a
 * successful one applies all, and SQS still delivers, hides and redelivers messages.
 * These fail if the rollback of the patched TransactWriteItems restores the wrong state.
 * Queries, which the patch answers from one hash key's items, still return exactly that
 * key's items in order, page by page, and index queries still see every item.
 */
import { randomBytes } from 'node:crypto';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { localResourceNames, type ResourceNames } from '../../core/resources.js';
import { ENDPOINT } from '../helpers/stack.js';

describe('the emulator patches keep DynamoDB transactions and SQS semantics', () => {
  let c: AwsClients;
  let names: ResourceNames;
  beforeAll(async () => {
    c = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
    names = localResourceNames(`p-${randomBytes(5).toString('hex')}`);
    await bootstrapLocalStack(c, names);
  });
  afterAll(() => {
    if (c) destroyClients(c);
  });

  const key = (id: string) => ({ pk: `JOB#patch`, sk: `TASK#${id}` });
  const get = async (id: string) =>
    (await c.doc.send(new GetCommand({ TableName: names.table, Key: key(id), ConsistentRead: true }))).Item;
  const put = (id: string, n: number) =>
    c.doc.send(new PutCommand({ TableName: names.table, Item: { ...key(id), n, tag: 'before' } }));
  const TableName = () => names.table;

  it('a cancelled transaction leaves updated, created and deleted items as they were', async () => {
    await put('a', 1);
    await put('d', 4);
    // Many other items in the table: the rollback must not depend on (or touch) them.
    for (let i = 0; i < 20; i++) await put(`other-${i}`, i);
    const cancelled = c.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: TableName(), Key: key('a'), UpdateExpression: 'SET n = :n, tag = :t', ExpressionAttributeValues: { ':n': 2, ':t': 'after' } } },
          { Put: { TableName: TableName(), Item: { ...key('b'), n: 9 }, ConditionExpression: 'attribute_not_exists(pk)' } },
          { Delete: { TableName: TableName(), Key: key('d') } },
          // Fails: 'c' does not exist.
          { ConditionCheck: { TableName: TableName(), Key: key('c'), ConditionExpression: 'attribute_exists(pk)' } },
        ],
      }),
    );
    await expect(cancelled).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(await get('a')).toEqual({ ...key('a'), n: 1, tag: 'before' });
    expect(await get('b')).toBeUndefined();
    expect(await get('d')).toEqual({ ...key('d'), n: 4, tag: 'before' });
    expect(await get('other-7')).toEqual({ ...key('other-7'), n: 7, tag: 'before' });
  });

  it('a transaction naming one item twice is refused and changes nothing', async () => {
    await put('twice', 1);
    const twice = c.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: TableName(), Key: key('twice'), UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 2 } } },
          { Update: { TableName: TableName(), Key: key('twice'), UpdateExpression: 'SET n = :n', ExpressionAttributeValues: { ':n': 3 } } },
        ],
      }),
    );
    await expect(twice).rejects.toThrow();
    expect((await get('twice'))?.n).toBe(1);
  });

  it('a transaction whose conditions hold applies every write', async () => {
    await put('x', 1);
    await c.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Update: { TableName: TableName(), Key: key('x'), UpdateExpression: 'ADD n :one', ConditionExpression: 'n = :n', ExpressionAttributeValues: { ':one': 1, ':n': 1 } } },
          { Put: { TableName: TableName(), Item: { ...key('y'), n: 5 }, ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
    expect((await get('x'))?.n).toBe(2);
    expect((await get('y'))?.n).toBe(5);
  });

  it('a Query returns exactly its hash key items, in range order, page by page, and an index Query sees all', async () => {
    const run = randomBytes(4).toString('hex');
    const pk = (j: number) => `JOB#q-${run}-${j}`;
    // Three hash keys, interleaved writes, ranges written out of order.
    for (const i of [5, 1, 4, 0, 3, 2]) {
      for (let j = 0; j < 3; j++) {
        await c.doc.send(new PutCommand({ TableName: TableName(), Item: { pk: pk(j), sk: `TASK#${i}`, n: i, activeKind: `Q-${run}`, activeSort: `${i}#${j}` } }));
      }
    }
    const pages: string[][] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await c.doc.send(
        new QueryCommand({ TableName: TableName(), KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk(1) }, Limit: 4, ExclusiveStartKey: start, ConsistentRead: true }),
      );
      pages.push((out.Items ?? []).map((x) => `${x.pk}/${x.sk}`));
      start = out.LastEvaluatedKey;
    } while (start);
    expect(pages.flat()).toEqual([0, 1, 2, 3, 4, 5].map((i) => `${pk(1)}/TASK#${i}`));
    expect(pages[0]).toHaveLength(4);
    const none = await c.doc.send(new QueryCommand({ TableName: TableName(), KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': `JOB#q-${run}-none` } }));
    expect(none.Items).toEqual([]);
    const ranged = await c.doc.send(
      new QueryCommand({ TableName: TableName(), KeyConditionExpression: 'pk = :p AND sk > :s', ExpressionAttributeValues: { ':p': pk(2), ':s': 'TASK#3' }, ScanIndexForward: false }),
    );
    expect(ranged.Items?.map((x) => String(x.sk))).toEqual(['TASK#5', 'TASK#4']);
    const index = await c.doc.send(
      new QueryCommand({ TableName: TableName(), IndexName: 'active', KeyConditionExpression: 'activeKind = :k AND begins_with(activeSort, :s)', ExpressionAttributeValues: { ':k': `Q-${run}`, ':s': '4#' } }),
    );
    expect(index.Items?.map((x) => String(x.pk))).toEqual([pk(0), pk(1), pk(2)]);
  });

  it('SQS delivers each message once while hidden, and again after its visibility timeout', async () => {
    const url = (await c.sqs.send(new GetQueueUrlCommand({ QueueName: names.tasksQueue }))).QueueUrl as string;
    const bodies = Array.from({ length: 10 }, (_, i) => `m-${i}`);
    await c.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: url, Entries: bodies.map((b, i) => ({ Id: String(i), MessageBody: b })) }),
    );
    const seen: string[] = [];
    let handle = '';
    for (let i = 0; i < 10 && seen.length < 10; i++) {
      const got = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
      for (const m of got.Messages ?? []) {
        seen.push(m.Body as string);
        if (m.Body === 'm-3') handle = m.ReceiptHandle as string;
      }
    }
    expect(seen.sort()).toEqual([...bodies].sort());
    // All hidden now; m-3 made visible again comes back with a second receive count.
    await c.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: url, ReceiptHandle: handle, VisibilityTimeout: 0 }));
    const again = await c.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['ApproximateReceiveCount'] }),
    );
    expect(again.Messages?.map((m) => [m.Body, m.Attributes?.ApproximateReceiveCount])).toEqual([['m-3', '2']]);
  });
});
