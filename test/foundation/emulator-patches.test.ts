/**
 * What the launcher's moto patches (local/moto-patches.ts) must keep: a cancelled
 * transaction leaves every item it named as it was (updated, created or deleted), a
 * successful one applies all, and SQS still delivers, hides and redelivers messages.
 * These fail if the rollback of the patched TransactWriteItems restores the wrong state.
 * S3 (bodies kept in memory and shared, ETags hashed from them, ranges sliced from them, copies
 * keeping the source's ETag, one-pass aws-chunked decoding, request bodies read at once): every answer the
 * workers use stays S3's, on objects above moto's old 8 MiB spool threshold.
 * Queries, which the patch answers from one hash key's items, still return exactly that
 * key's items in order, page by page, and index queries still see every item.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { BlobStore } from '../../aws/blob-store.js';
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


  it('a projected Query returns exactly the named paths (nested, list elements, missing ones), and the stored items stay whole', async () => {
    const pk = `JOB#proj-${randomBytes(4).toString('hex')}`;
    const full = (i: number) => ({
      pk,
      sk: `TASK#m-${i}`,
      taskId: `m-${i}`,
      index: i,
      output: { key: `tmp/${i}`, offsets: [0, i, 2 * i] },
      history: [{ attempt: 1, requests: { 'S3.GetObject': 1 } }],
      'we[ird': 'x',
    });
    for (const i of [2, 0, 1]) await c.doc.send(new PutCommand({ TableName: TableName(), Item: full(i) }));
    const query = (projection: string, names: Record<string, string>) =>
      c.doc.send(
        new QueryCommand({
          TableName: TableName(),
          KeyConditionExpression: 'pk = :p AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':p': pk, ':s': 'TASK#m-' },
          ProjectionExpression: projection,
          ExpressionAttributeNames: names,
          ConsistentRead: true,
        }),
      );
    const top = await query('#t, #i, #o, #n', { '#t': 'taskId', '#i': 'index', '#o': 'output', '#n': 'nothing' });
    expect(top.Items).toEqual([0, 1, 2].map((i) => ({ taskId: `m-${i}`, index: i, output: { key: `tmp/${i}`, offsets: [0, i, 2 * i] } })));
    const nested = await query('#o.#k, #o.offsets[1], history[0].#a, #w', { '#o': 'output', '#k': 'key', '#a': 'attempt', '#w': 'we[ird' });
    expect(nested.Items).toEqual([0, 1, 2].map((i) => ({ output: { key: `tmp/${i}`, offsets: [i] }, history: [{ attempt: 1 }], 'we[ird': 'x' })));
    const whole = await c.doc.send(new QueryCommand({ TableName: TableName(), KeyConditionExpression: 'pk = :p', ExpressionAttributeValues: { ':p': pk }, ConsistentRead: true }));
    expect(whole.Items).toEqual([0, 1, 2].map(full));
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

describe('the emulator patches keep S3 bodies, ranges, ETags and copies', () => {
  let c: AwsClients;
  let blobs: BlobStore;
  let bucket: string;
  /** 12 MiB: above moto's default in-memory limit (8 MiB), so unpatched it goes to a file. */
  const SIZE = 12 * 1024 * 1024 + 7;
  const body = randomBytes(SIZE);
  const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
  beforeAll(async () => {
    c = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
    blobs = new BlobStore(c);
    const names = localResourceNames(`p-${randomBytes(5).toString('hex')}`);
    await bootstrapLocalStack(c, names);
    bucket = names.bucket;
    await blobs.putBytes(bucket, 'big', body);
  });
  afterAll(() => {
    if (c) destroyClients(c);
  });
  const get = async (Key: string, Range?: string) => {
    const out = await c.s3.send(new GetObjectCommand({ Bucket: bucket, Key, Range }));
    return { bytes: Buffer.from(await out.Body!.transformToByteArray()), range: out.ContentRange, length: out.ContentLength, etag: out.ETag };
  };

  it('a ranged GET answers exactly its bytes with Content-Range and Content-Length, up to the last byte', async () => {
    const last = SIZE - 1;
    const cases: [string, number, number][] = [
      ['bytes=0-0', 0, 0],
      ['bytes=5000000-8999999', 5_000_000, 8_999_999],
      [`bytes=${last}-${last}`, last, last],
      [`bytes=${SIZE - 1000}-`, SIZE - 1000, last],
      ['bytes=-100', SIZE - 100, last],
      [`bytes=${SIZE - 10}-${SIZE + 5000}`, SIZE - 10, last],
    ];
    for (const [range, from, to] of cases) {
      const got = await get('big', range);
      expect(got.range, range).toBe(`bytes ${from}-${to}/${SIZE}`);
      expect(got.length, range).toBe(to - from + 1);
      expect(got.bytes.equals(body.subarray(from, to + 1)), range).toBe(true);
    }
    const whole = await get('big');
    expect(whole.bytes.equals(body)).toBe(true);
    expect(whole.etag).toBe(`"${md5(body)}"`);
    await expect(get('big', `bytes=${SIZE}-`)).rejects.toMatchObject({ name: 'InvalidRange' });
  });

  it('a copy has its source bytes and ETag, and overwriting the source leaves the copy as it was', async () => {
    await blobs.putBytes(bucket, 'src', body);
    await blobs.copy({ bucket, key: 'src' }, { bucket, key: 'copy' });
    const other = randomBytes(SIZE);
    await blobs.putBytes(bucket, 'src', other);
    const copy = await get('copy');
    expect(copy.bytes.equals(body)).toBe(true);
    expect(copy.etag).toBe(`"${md5(body)}"`);
    const src = await get('src', 'bytes=100-199');
    expect(src.bytes.equals(other.subarray(100, 200))).toBe(true);
    expect((await get('src')).etag).toBe(`"${md5(other)}"`);
  });

  it('PutObject, HEAD and GET answer ETag = MD5 of the bytes, empty and above moto\'s 16 MiB hashing reads', async () => {
    // The ETag is hashed from the stored bytes at once (moto read them out in 16 MiB copies).
    const bodies = { empty: Buffer.alloc(0), small: body.subarray(0, 1000), large: Buffer.concat([body, body.subarray(0, 5 * 1024 * 1024)]) };
    for (const [name, bytes] of Object.entries(bodies)) {
      const put = await c.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `etag-${name}`, Body: bytes, ContentLength: bytes.length }));
      expect(put.ETag, name).toBe(`"${md5(bytes)}"`);
      const head = await c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: `etag-${name}` }));
      expect([head.ETag, head.ContentLength], name).toEqual([`"${md5(bytes)}"`, bytes.length]);
      const got = await get(`etag-${name}`);
      expect([got.etag, got.bytes.equals(bytes)], name).toEqual([`"${md5(bytes)}"`, true]);
    }
  });

  it('a streamed upload in aws-chunked encoding with a checksum trailer is stored as the bytes sent', async () => {
    // The SDK's default client (checksums when supported) sends a stream as aws-chunked, one chunk per read.
    const s3 = new S3Client({ region: 'us-east-1', endpoint: ENDPOINT, forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    try {
      const pieces = Array.from({ length: 150 }, (_, i) => body.subarray(i * 65_536, (i + 1) * 65_536));
      const sent = Buffer.concat(pieces);
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'chunked', Body: Readable.from(pieces), ContentLength: sent.length }));
      const got = await get('chunked');
      expect(got.length).toBe(sent.length);
      expect(got.bytes.equals(sent)).toBe(true);
      expect(got.etag).toBe(`"${md5(sent)}"`);
    } finally {
      s3.destroy();
    }
  });
});
