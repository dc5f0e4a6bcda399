import { randomBytes } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import {
  GetBucketNotificationConfigurationCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import {
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import {
  JOB_BUCKET,
  localResourceNames,
  type ResourceNames,
  STATE_TABLE,
  SUBMISSIONS_QUEUE,
  TASKS_QUEUE,
} from '../../core/resources.js';
import { ENDPOINT } from '../helpers/stack.js';

describe('resources from the shared definition, on the emulator', () => {
  let c: AwsClients;
  let names: ResourceNames;

  beforeAll(async () => {
    c = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
    names = localResourceNames(`f-${randomBytes(5).toString('hex')}`);
    await bootstrapLocalStack(c, names);
  });
  afterAll(() => {
    if (c) destroyClients(c);
  });

  const queueUrl = async (name: string) =>
    (await c.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl as string;

  it('creates the table, queues and bucket as defined in core/resources.ts', async () => {
    const table = (await c.ddb.send(new DescribeTableCommand({ TableName: names.table }))).Table;
    expect(table?.TableStatus).toBe('ACTIVE');
    expect(table?.KeySchema).toEqual([
      { AttributeName: STATE_TABLE.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: STATE_TABLE.sortKey?.name, KeyType: 'RANGE' },
    ]);
    expect(table?.GlobalSecondaryIndexes?.map((g) => g.IndexName).sort()).toEqual(
      STATE_TABLE.globalSecondaryIndexes.map((g) => g.indexName).sort(),
    );
    const ttl = await c.ddb.send(new DescribeTimeToLiveCommand({ TableName: names.table }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe(STATE_TABLE.timeToLiveAttribute);

    for (const [queue, dlq, def] of [
      [names.tasksQueue, names.tasksDlq, TASKS_QUEUE],
      [names.submissionsQueue, names.submissionsDlq, SUBMISSIONS_QUEUE],
    ] as const) {
      const attrs = (
        await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: await queueUrl(queue), AttributeNames: ['All'] }))
      ).Attributes;
      expect(attrs?.VisibilityTimeout).toBe(String(def.visibilityTimeoutSeconds));
      const dlqArn = (
        await c.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: await queueUrl(dlq), AttributeNames: ['QueueArn'] }),
        )
      ).Attributes?.QueueArn;
      expect(JSON.parse(attrs?.RedrivePolicy ?? '{}')).toMatchObject({
        deadLetterTargetArn: dlqArn,
        maxReceiveCount: def.maxReceiveCount,
      });
    }

    const notif = await c.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: names.bucket }));
    const rules = (notif.QueueConfigurations ?? []).map((q) =>
      Object.fromEntries((q.Filter?.Key?.FilterRules ?? []).map((r) => [String(r.Name).toLowerCase(), r.Value])),
    );
    expect(rules).toEqual(JOB_BUCKET.submissionTriggers.map((t) => ({ prefix: t.prefix, suffix: t.suffix })));
  });

  it('round-trips a message through SQS', async () => {
    const url = await queueUrl(names.tasksQueue);
    const body = JSON.stringify({ jobId: 'j-1', taskId: 'm-00000', note: 'héllo ✓' });
    const sent = await c.sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
    const got = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 2, MaxNumberOfMessages: 1 }));
    expect(got.Messages).toHaveLength(1);
    expect(got.Messages?.[0]?.MessageId).toBe(sent.MessageId);
    expect(got.Messages?.[0]?.Body).toBe(body);
    await c.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: got.Messages?.[0]?.ReceiptHandle }));
    const after = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 0 }));
    expect(after.Messages ?? []).toHaveLength(0);
  });

  it('round-trips an item through DynamoDB; a failing condition raises ConditionalCheckFailedException', async () => {
    const Key = { pk: 'JOB#roundtrip', sk: 'JOB' };
    const Item = { ...Key, status: 'RUNNING', attempt: 1, counters: { 'mapreduce.X': 3 } };
    await c.doc.send(new PutCommand({ TableName: names.table, Item, ConditionExpression: 'attribute_not_exists(pk)' }));
    const got = await c.doc.send(new GetCommand({ TableName: names.table, Key, ConsistentRead: true }));
    expect(got.Item).toEqual(Item);

    // The same create again loses its condition.
    await expect(
      c.doc.send(new PutCommand({ TableName: names.table, Item, ConditionExpression: 'attribute_not_exists(pk)' })),
    ).rejects.toBeInstanceOf(ConditionalCheckFailedException);

    // A fenced transition: holds for the current attempt, fails for a stale one.
    const fenced = (attempt: number) =>
      c.doc.send(
        new UpdateCommand({
          TableName: names.table,
          Key,
          UpdateExpression: 'SET #s = :done',
          ConditionExpression: '#s = :running AND attempt = :a',
          ExpressionAttributeNames: { '#s': 'status' },
          ExpressionAttributeValues: { ':done': 'COMMITTED', ':running': 'RUNNING', ':a': attempt },
        }),
      );
    const stale = await fenced(0).catch((e: unknown) => e);
    expect(stale).toBeInstanceOf(ConditionalCheckFailedException);
    expect((stale as Error).name).toBe('ConditionalCheckFailedException');
    await fenced(1);
    const final = await c.doc.send(new GetCommand({ TableName: names.table, Key, ConsistentRead: true }));
    expect(final.Item?.status).toBe('COMMITTED');
    // Once committed, the same transition no longer holds.
    await expect(fenced(1)).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });

  it('round-trips an object through S3, with ranged GETs returning exact bytes', async () => {
    const body = Buffer.alloc(1000);
    for (let i = 0; i < body.length; i++) body[i] = (i * 7 + 3) % 256; // every byte value, not UTF-8
    await c.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: 'data/bytes.bin', Body: body }));
    const get = async (Range?: string) => {
      const out = await c.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: 'data/bytes.bin', Range }));
      return Buffer.from(await (out.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
    };
    expect((await get()).equals(body)).toBe(true);
    expect((await get('bytes=100-199')).equals(body.subarray(100, 200))).toBe(true);
    expect((await get('bytes=0-0')).equals(body.subarray(0, 1))).toBe(true);
    expect((await get('bytes=990-')).equals(body.subarray(990))).toBe(true);
    expect((await get('bytes=995-5000')).equals(body.subarray(995))).toBe(true);
  });

  it('bootstrapping twice is idempotent: no error, same resources, data kept', async () => {
    const listQueues = async () =>
      ((await c.sqs.send(new ListQueuesCommand({ QueueNamePrefix: names.bucket.replace(/-jobs$/, '') }))).QueueUrls ?? [])
        .slice()
        .sort();
    const before = await listQueues();
    expect(before).toHaveLength(4);
    await c.doc.send(new PutCommand({ TableName: names.table, Item: { pk: 'KEEP', sk: 'ME' } }));
    await c.s3.send(new PutObjectCommand({ Bucket: names.bucket, Key: 'keep.txt', Body: 'kept' }));

    await bootstrapLocalStack(c, names);
    // A second set of clients, as a second process would have.
    const c2 = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
    try {
      await bootstrapLocalStack(c2, names);
    } finally {
      destroyClients(c2);
    }

    expect(await listQueues()).toEqual(before);
    const buckets = (await c.s3.send(new ListBucketsCommand({}))).Buckets ?? [];
    expect(buckets.filter((b) => b.Name === names.bucket)).toHaveLength(1);
    const kept = await c.doc.send(new GetCommand({ TableName: names.table, Key: { pk: 'KEEP', sk: 'ME' } }));
    expect(kept.Item).toBeDefined();
    const obj = await c.s3.send(new GetObjectCommand({ Bucket: names.bucket, Key: 'keep.txt' }));
    expect(await obj.Body?.transformToString()).toBe('kept');
  });
});
