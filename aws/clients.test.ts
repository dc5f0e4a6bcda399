/**
 * The clients' resilience settings, exercised against a loopback HTTP server that
 * throttles, black-holes or answers: every call is retried with backoff and bounded in time.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterEach, describe, expect, it } from 'vitest';
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
});
