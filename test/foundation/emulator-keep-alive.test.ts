/**
 * The launcher's keep-alive handler (local/moto-keep-alive.ts): requests of every service the
 * product uses, errors and bodies the emulator does not read included, follow each other on
 * one connection and each gets its own answer; a connection whose next request could not be
 * framed (after a chunked request body) or that the client asked to close is closed after its
 * answer, as werkzeug closed every one before. (A body the application leaves unread beyond
 * KEEP_ALIVE_MAX_UNREAD closes it too; moto reads every body it is sent, so no request here
 * can leave one.)
 * The SDK's clients over an agent that counts the connections it opens; raw HTTP for the
 * framing cases, seeing which requests went out on a reused socket. Keep-alive is on unless
 * MR_EMULATOR_KEEP_ALIVE=0: the file starts its own emulator with the variable unset, whatever
 * the shared one runs with, and one with it 0 (every answer closes its connection).
 */
import { pbkdf2, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, GetItemCommand, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../aws/blob-store.js';
import { type EmulatorHandle, ensureEmulator } from '../../local/emulator.js';
import { freePort } from '../../local/free-port.js';
import { EMULATOR_KEEP_ALIVE_ENV } from '../../local/moto-keep-alive.js';
import { RANGE_VIEW_MIN_BYTES } from '../../local/moto-s3-patches.js';

/** A private emulator, its launcher's environment with EMULATOR_KEEP_ALIVE_ENV set to `value` (or unset). */
async function emulatorWith(value: string | undefined): Promise<{ endpoint: string; handle: EmulatorHandle }> {
  const endpoint = `http://127.0.0.1:${await freePort()}`;
  const before = process.env[EMULATOR_KEEP_ALIVE_ENV];
  // The launcher's child inherits it.
  if (value === undefined) delete process.env[EMULATOR_KEEP_ALIVE_ENV];
  else process.env[EMULATOR_KEEP_ALIVE_ENV] = value;
  try {
    return { endpoint, handle: await ensureEmulator({ endpoint, timeoutMs: 60_000 }) };
  } finally {
    if (before === undefined) delete process.env[EMULATOR_KEEP_ALIVE_ENV];
    else process.env[EMULATOR_KEEP_ALIVE_ENV] = before;
  }
}

/** The emulator of most tests here, as the launcher starts it by default: keep-alive on. */
let ENDPOINT = '';
let emulator: EmulatorHandle | undefined;
beforeAll(async () => {
  ({ endpoint: ENDPOINT, handle: emulator } = await emulatorWith(undefined));
}, 90_000);
afterAll(async () => {
  await emulator?.stop();
});

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  /** True when the request went out on a connection an earlier request had used. */
  readonly reused: boolean;
}

function request(
  agent: http.Agent,
  method: string,
  path: string,
  o: { headers?: http.OutgoingHttpHeaders; body?: Buffer | Buffer[] } = {},
): Promise<Answer> {
  return requestTo(ENDPOINT, agent, method, path, o);
}

function requestTo(
  endpoint: string,
  agent: http.Agent,
  method: string,
  path: string,
  o: { headers?: http.OutgoingHttpHeaders; body?: Buffer | Buffer[] } = {},
): Promise<Answer> {
  const target = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: target.hostname, port: target.port, method, path, headers: o.headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), reused: req.reusedSocket }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (Array.isArray(o.body)) {
      for (const part of o.body) req.write(part); // no Content-Length: sent chunked
      req.end();
    } else req.end(o.body);
  });
}

const listTables = {
  headers: { 'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.ListTables' },
  body: Buffer.from('{}'),
};

/** A keep-alive agent (one socket at a time unless told), counting the connections it opens. */
function countingAgent(maxSockets = 1): { agent: http.Agent; opened: () => number } {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  let opened = 0;
  const create = agent.createConnection.bind(agent);
  agent.createConnection = ((...args: Parameters<typeof create>) => {
    opened++;
    return create(...args);
  }) as typeof agent.createConnection;
  return { agent, opened: () => opened };
}

/** The name of the error a call threw (fails the test if it succeeded). */
async function errorName(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return (err as Error).name;
  }
  throw new Error('the call succeeded');
}

describe('the emulator keeps connections open between requests', () => {
  const bucket = `ka-${randomBytes(5).toString('hex')}`;
  const counting = countingAgent();
  let s3: S3Client;
  let ddb: DynamoDBClient;
  let sqs: SQSClient;
  beforeAll(() => {
    const o = {
      endpoint: ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1, // a retry on a new connection would hide a broken one
      requestHandler: new NodeHttpHandler({ httpAgent: counting.agent }),
    };
    s3 = new S3Client({ ...o, forcePathStyle: true });
    ddb = new DynamoDBClient(o);
    sqs = new SQSClient(o);
  });
  afterAll(() => {
    s3?.destroy();
    ddb?.destroy();
    sqs?.destroy();
    counting.agent.destroy();
  });

  it('answers S3, DynamoDB and SQS requests, errors and large bodies included, one after the other on one connection', async () => {
    const small = randomBytes(200_000);
    const large = randomBytes(3 * 1024 * 1024); // the SDK sends it after a 100 Continue
    const read = async (Key: string, Range?: string) =>
      Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key, Range }))).Body!.transformToByteArray());
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'small', Body: small }));
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'large', Body: large }));
    expect((await read('small')).equals(small)).toBe(true);
    expect((await read('large', 'bytes=10-19')).equals(large.subarray(10, 20))).toBe(true);
    expect((await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'large' }))).ContentLength).toBe(large.length);
    expect(await errorName(read('absent'))).toBe('NoSuchKey');
    expect(await errorName(s3.send(new HeadObjectCommand({ Bucket: bucket, Key: 'absent' })))).toBe('NotFound');
    expect(await errorName(s3.send(new PutObjectCommand({ Bucket: `${bucket}-absent`, Key: 'x', Body: small })))).toBe('NoSuchBucket');
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toBeDefined();
    expect(await errorName(ddb.send(new GetItemCommand({ TableName: `${bucket}-absent`, Key: { pk: { S: 'x' } } })))).toBe(
      'ResourceNotFoundException',
    );
    expect(await errorName(sqs.send(new GetQueueUrlCommand({ QueueName: `${bucket}-absent` })))).toBe('QueueDoesNotExist');
    expect((await read('large')).equals(large)).toBe(true);
    expect(counting.opened()).toBe(1);
  });

  it('answers large ranged GETs (sent from the stored bytes) with exactly their range, then the next request on the connection', async () => {
    const before = counting.opened();
    await expectRanges(s3, bucket, await putRangeObject(s3, bucket));
    expect((await ddb.send(new ListTablesCommand({}))).TableNames).toBeDefined();
    expect(counting.opened()).toBe(before);
  });

  it('closes after a chunked request body or when the client asks to close', async () => {
    const { agent } = countingAgent();
    try {
      const first = await request(agent, 'POST', '/', listTables);
      expect(first.status).toBe(200);
      expect((await request(agent, 'POST', '/', listTables)).reused).toBe(true);

      const chunked = await request(agent, 'PUT', `/${bucket}/chunked`, { body: [Buffer.from('abc'), Buffer.from('def')] });
      expect(chunked.headers.connection).toBe('close');
      expect((await request(agent, 'POST', '/', listTables)).reused).toBe(false);

      const asked = await request(agent, 'POST', '/', { ...listTables, headers: { ...listTables.headers, Connection: 'close' } });
      expect(asked.headers.connection).toBe('close');
      expect((await request(agent, 'POST', '/', listTables)).reused).toBe(false);
    } finally {
      agent.destroy();
    }
  });
});

/** An object of a few RANGE_VIEW_MIN_BYTES under `ranges` in `bucket` (created if absent); its bytes. */
async function putRangeObject(s3: S3Client, bucket: string): Promise<Buffer> {
  const body = randomBytes(3 * RANGE_VIEW_MIN_BYTES + 12_345);
  await s3.send(new CreateBucketCommand({ Bucket: bucket })).catch((err: Error) => {
    if (err.name !== 'BucketAlreadyOwnedByYou' && err.name !== 'BucketAlreadyExists') throw err;
  });
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'ranges', Body: body }));
  return body;
}

/**
 * Ranged GETs of `ranges` at and around RANGE_VIEW_MIN_BYTES (above it the emulator writes a
 * view of the stored bytes to the socket itself, below it werkzeug writes a copy): each
 * answers exactly its bytes, Content-Range and Content-Length.
 */
async function expectRanges(s3: S3Client, bucket: string, body: Buffer): Promise<void> {
  const size = body.length;
  const last = size - 1;
  const min = RANGE_VIEW_MIN_BYTES;
  const cases: [string, number, number][] = [
    [`bytes=1-${min}`, 1, min], // exactly the threshold
    [`bytes=10-${min + 7}`, 10, min + 7], // one byte below it
    [`bytes=100-${2 * min + 99}`, 100, 2 * min + 99],
    [`bytes=${min}-`, min, last],
    [`bytes=-${2 * min}`, size - 2 * min, last],
    [`bytes=${size - min - 10}-${size + 5000}`, size - min - 10, last], // clipped at the end
    [`bytes=0-${last}`, 0, last],
  ];
  for (const [Range, from, to] of cases) {
    const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'ranges', Range }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect([got.ContentRange, got.ContentLength], Range).toEqual([`bytes ${from}-${to}/${size}`, to - from + 1]);
    expect(bytes.equals(body.subarray(from, to + 1)), Range).toBe(true);
  }
}

/**
 * Keep libuv's threadpool busy (hashing) until the returned stop is called: file reads wait
 * in its queue, as on a loaded machine, while socket events do not.
 */
function busyThreadpool(): () => void {
  let busy = true;
  const spin = () => {
    if (busy) pbkdf2('x', 'y', 20_000, 32, 'sha256', spin);
  };
  for (let i = 0; i < 8; i++) spin();
  return () => {
    busy = false;
  };
}

describe('a file upload ends its request on a kept connection', () => {
  // putFile streams the file; an upload whose request never ends (its stream destroyed before
  // its end was read, after the answer came) keeps its socket in use and referenced: a CLI
  // command did not exit until the SDK's idle timeout dropped it (docs/performance.md, session 12).
  it('so sequential uploads reuse one connection, even when file reads lag behind the answers', async () => {
    const counting = countingAgent(16); // each request that never ended takes a new socket (12 uploads)
    const o = {
      endpoint: ENDPOINT,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler({ httpAgent: counting.agent }),
    };
    // As createClients configures S3 for an emulator: no aws-chunked (chunked, unframed) bodies.
    const s3 = new S3Client({ ...o, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    const ddb = new DynamoDBClient(o);
    const sqs = new SQSClient(o);
    const blobs = new BlobStore({ s3, ddb, sqs, doc: DynamoDBDocumentClient.from(ddb), endpoint: ENDPOINT, region: 'us-east-1' });
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ka-put-'));
    const bucket = `ka-put-${randomBytes(4).toString('hex')}`;
    const stop = busyThreadpool();
    try {
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const sizes = [0, 1, 5000, 70_000, 300_000];
      for (let i = 0; i < 12; i++) {
        const size = sizes[i % sizes.length]!;
        const file = path.join(dir, `f${i}`);
        writeFileSync(file, randomBytes(size));
        expect(await blobs.putFile(bucket, `f${i}`, file)).toBe(size);
      }
      stop();
      const back = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'f3' }));
      expect((await back.Body!.transformToByteArray()).length).toBe(70_000);
      expect(counting.opened()).toBe(1);
    } finally {
      stop();
      s3.destroy();
      ddb.destroy();
      sqs.destroy();
      counting.agent.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe(`${EMULATOR_KEEP_ALIVE_ENV}=0`, () => {
  it('turns keep-alive off: every answer closes its connection', async () => {
    const off = await emulatorWith('0');
    const { agent, opened } = countingAgent();
    let s3: S3Client | undefined;
    try {
      const first = await requestTo(off.endpoint, agent, 'POST', '/', listTables);
      expect(first.status).toBe(200);
      expect(first.headers.connection).toBe('close');
      expect((await requestTo(off.endpoint, agent, 'POST', '/', listTables)).reused).toBe(false);
      expect(opened()).toBe(2);
      // Large ranges are written from the stored bytes by this handler too.
      const bucket = `ka-off-${randomBytes(5).toString('hex')}`;
      s3 = new S3Client({ endpoint: off.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      await expectRanges(s3, bucket, await putRangeObject(s3, bucket));
    } finally {
      s3?.destroy();
      agent.destroy();
      await off.handle.stop();
    }
  }, 90_000);
});
