/**
 * The clients' resilience settings, exercised against a loopback HTTP server that
 * throttles, black-holes or answers: every call is retried with backoff and bounded in time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import { bucketReadClient } from './bucket-readers.js';
import { type AwsClients, createClients, DEFAULT_MAX_ATTEMPTS, destroyClients } from './clients.js';

let server: ReturnType<typeof createServer> | undefined;
let clients: AwsClients | undefined;

afterEach(async () => {
  if (clients) destroyClients(clients);
  clients = undefined;
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r) ?? r(undefined));
});

/** A fake DynamoDB on 127.0.0.1; `reply(n)` handles the n-th request (0-based). */
async function fakeDynamo(reply: (n: number, res: ServerResponse) => void): Promise<{ endpoint: string; requests: () => number }> {
  let n = 0;
  server = createServer((req: IncomingMessage, res) => {
    req.resume();
    req.on('end', () => reply(n++, res));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

const json = (res: ServerResponse, status: number, body: object) => {
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
  res.end(JSON.stringify(body));
};
const throttled = (res: ServerResponse) =>
  json(res, 400, { __type: 'com.amazonaws.dynamodb.v20120810#ThrottlingException', message: 'Rate exceeded' });
const item = (res: ServerResponse) => json(res, 200, { Item: { pk: { S: 'a' } } });
const get = () => new GetItemCommand({ TableName: 't', Key: { pk: { S: 'a' } } });

describe('createClients: bounded, retried calls', () => {
  it('uses the standard retry mode with DEFAULT_MAX_ATTEMPTS attempts', async () => {
    clients = createClients({ endpoint: 'http://127.0.0.1:9', region: 'us-east-1' }, {});
    expect(await clients.ddb.config.maxAttempts()).toBe(DEFAULT_MAX_ATTEMPTS);
    const mode = async (c: { config: { retryStrategy: () => Promise<unknown> } }) =>
      ((await c.config.retryStrategy()) as { mode?: string }).mode;
    expect(await mode(clients.ddb)).toBe('standard');
    expect(await mode(clients.s3)).toBe('standard');
    expect(await mode(clients.sqs)).toBe('standard');
  });

  it('retries throttling until an answer comes', async () => {
    const fake = await fakeDynamo((n, res) => (n < 2 ? throttled(res) : item(res)));
    clients = createClients({ endpoint: fake.endpoint, region: 'us-east-1' }, {});
    const out = await clients.ddb.send(get());
    expect(out.Item).toEqual({ pk: { S: 'a' } });
    expect(fake.requests()).toBe(3);
  });

  it('a request that never gets an answer times out and is retried', async () => {
    // The first request is black-holed (no response ever); the second is answered.
    const fake = await fakeDynamo((n, res) => (n === 0 ? undefined : item(res)));
    clients = createClients({ endpoint: fake.endpoint, region: 'us-east-1', requestTimeoutMs: 300 }, {});
    const out = await clients.ddb.send(get());
    expect(out.Item).toBeDefined();
    expect(fake.requests()).toBe(2);
  });

  it('gives up after MR_AWS_MAX_ATTEMPTS black-holed attempts with a TimeoutError', async () => {
    const fake = await fakeDynamo(() => undefined);
    clients = createClients({ endpoint: fake.endpoint, region: 'us-east-1', requestTimeoutMs: 200 }, { MR_AWS_MAX_ATTEMPTS: '2' });
    const err = await clients.ddb.send(get()).catch((e: unknown) => e);
    expect((err as Error).name).toBe('TimeoutError');
    expect(fake.requests()).toBe(2);
  });
});

describe('S3 request checksums against an emulator', () => {
  it('a streamed upload goes as plain bytes with its length, and DeleteObjects still carries the checksum S3 requires', async () => {
    const { mkdtemp, writeFile } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { BlobStore } = await import('./blob-store.js');
    const seen: { method: string; headers: IncomingMessage['headers']; bytes: number }[] = [];
    server = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        seen.push({ method: req.method ?? '', headers: req.headers, bytes });
        res.writeHead(200, { 'content-type': 'application/xml' });
        res.end(req.method === 'POST' ? '<DeleteResult></DeleteResult>' : '');
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    clients = createClients({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1' });
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'cks-')), 'body');
    await writeFile(file, Buffer.alloc(300_000, 7));
    const blobs = new BlobStore(clients);
    // The writers compute no CRC-32 for this store (moto keeps it unchecked): the reused-buffer body without one.
    expect(blobs.sendsChecksums).toBe(false);
    await blobs.putFile('b', 'k', file);
    await blobs.deleteMany('b', ['k']);
    const [put, del] = seen;
    expect(put?.method).toBe('PUT');
    expect(put?.headers['content-length']).toBe('300000');
    expect(put?.bytes).toBe(300_000);
    expect(put?.headers['content-encoding']).toBeUndefined();
    expect(Object.keys(put?.headers ?? {}).filter((h) => h.startsWith('x-amz-checksum') || h === 'x-amz-trailer')).toEqual([]);
    expect(del?.method).toBe('POST');
    expect(Object.keys(del?.headers ?? {}).some((h) => h.startsWith('x-amz-checksum') || h === 'content-md5')).toBe(true);
  });

  it('on AWS (no endpoint) the writers compute the CRC-32 S3 checks', async () => {
    const { BlobStore } = await import('./blob-store.js');
    clients = createClients({ region: 'us-east-1' }, {});
    expect(new BlobStore(clients).sendsChecksums).toBe(true);
  });
});

describe('the slice fetch reads (BlobStore.rangeReader) and bucketReadClient, against a loopback S3 that echoes each GET', () => {
  /** Each request's headers, as the echo server got them. */
  let headersSeen: IncomingMessage['headers'][] = [];
  /** Answers every GET, after 0-9 ms so that requests overlap, with its path and range. */
  async function echoS3(): Promise<string> {
    let n = 0;
    headersSeen = [];
    server = createServer((req, res) => {
      headersSeen.push(req.headers);
      req.resume();
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(`${req.url} ${req.headers.range}`);
      }, n++ % 10);
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }
  const text = async (body: AsyncIterable<unknown>) => {
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString();
  };

  it('gives each bucket its own cached-middleware client; 200 overlapping GETs of two buckets each get their own object and range', async () => {
    const { BlobStore } = await import('./blob-store.js');
    const { RequestCounter } = await import('./request-counter.js');
    const requestCounter = new RequestCounter();
    clients = createClients({ endpoint: await echoS3(), region: 'us-east-1', requestCounter });
    const a = bucketReadClient(clients, 'bucket-a');
    expect(a.config.cacheMiddleware).toBe(true);
    expect(bucketReadClient(clients, 'bucket-a')).toBe(a);
    expect(bucketReadClient(clients, 'bucket-b')).not.toBe(a);
    expect(clients.s3.config.cacheMiddleware).not.toBe(true);
    const blobs = new BlobStore(clients);
    const read = { a: blobs.rangeReader('bucket-a'), b: blobs.rangeReader('bucket-b') };
    const answers = await Promise.all(
      Array.from({ length: 200 }, async (_, i) => {
        const bucket = i % 2 ? 'b' : 'a';
        return { want: `/bucket-${bucket}/k${i}?x-id=GetObject bytes=${i}-${2 * i}`, got: await text(await read[bucket](`k${i}`, i, 2 * i + 1)) };
      }),
    );
    expect(answers.filter(({ want, got }) => want !== got)).toEqual([]);
    expect(requestCounter.snapshot()['S3.GetObject']).toBe(200);
    // The reads took the lean path (aws/lean-range-reader.ts): signed, without the headers the
    // SDK's retry middleware adds to every request it sends.
    expect(headersSeen.filter((h) => !String(h.authorization).startsWith('AWS4-HMAC-SHA256 ')).length).toBe(0);
    expect(headersSeen.filter((h) => h['amz-sdk-invocation-id'] !== undefined).length).toBe(0);
  });

  it('reports each lean read to the call observer as one S3 GetObject with its input', async () => {
    const { BlobStore } = await import('./blob-store.js');
    const calls: [string, string, unknown][] = [];
    clients = createClients({ endpoint: await echoS3(), region: 'us-east-1', observer: (s, o, i) => calls.push([s, o, i]) });
    await text(await new BlobStore(clients).rangeReader('bucket-a')('k1', 3, 9));
    expect(calls).toEqual([['s3', 'GetObject', { Bucket: 'bucket-a', Key: 'k1', Range: 'bytes=3-8' }]]);
  });

  it('sends GetObject of its bucket only', async () => {
    clients = createClients({ endpoint: await echoS3(), region: 'us-east-1' });
    const a = bucketReadClient(clients, 'bucket-a');
    await expect(a.send(new GetObjectCommand({ Bucket: 'bucket-b', Key: 'k' }))).rejects.toThrow(/GetObject to it only/);
    await expect(a.send(new PutObjectCommand({ Bucket: 'bucket-a', Key: 'k', Body: 'x' }))).rejects.toThrow(/GetObject to it only/);
  });

  it('a cached-middleware client shared by two buckets would mix their requests up (why one per bucket)', async () => {
    const shared = new S3Client({
      endpoint: await echoS3(),
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      cacheMiddleware: true,
    });
    try {
      const wrong = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const Bucket = i % 2 ? 'bucket-b' : 'bucket-a';
          const out = await shared.send(new GetObjectCommand({ Bucket, Key: `k${i}` }));
          return !(await text(out.Body as AsyncIterable<unknown>)).startsWith(`/${Bucket}/k${i}?`);
        }),
      );
      expect(wrong.filter(Boolean).length).toBeGreaterThan(0);
    } finally {
      shared.destroy();
    }
  });
});
