/**
 * A reduce's slice fetch over keep-alive connections (as S3 keeps them): the sockets a
 * worker holds are bounded by the fetch concurrency, not by the number of slices, and
 * `closeIdleConnections` after the fetch leaves none open. The S3 side here is a small
 * keep-alive server in a child process (its sockets are not this process's). Descriptors are read from
 * /proc/self/fd.
 */
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { ListQueuesCommand } from '@aws-sdk/client-sqs';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../aws/blob-store.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { DEFAULT_FETCH, SliceFetcher } from '../../worker/slice-fetch.js';

/** Answers every GET with the requested range of a 1,000-byte object, keeping the connection open. */
const SERVER = `
const http = require('node:http');
const body = Buffer.alloc(1000, 'x');
const server = http.createServer((req, res) => {
  // DynamoDB and SQS requests (JSON protocol POSTs): an empty answer, after the same latency.
  if (req.method === 'POST') {
    req.resume();
    req.on('end', () => setTimeout(() => {
      res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.0', 'Content-Length': 2 });
      res.end('{}');
    }, 5));
    return;
  }
  const m = /bytes=(\\d+)-(\\d+)/.exec(req.headers.range || '');
  const [start, end] = m ? [Number(m[1]), Number(m[2]) + 1] : [0, body.length];
  // A little latency, as S3's, so that the fetches overlap.
  setTimeout(() => {
    res.writeHead(m ? 206 : 200, { 'Content-Length': end - start, 'Content-Type': 'application/octet-stream' });
    res.end(body.subarray(start, end));
  }, 5);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

function openSockets(): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:');
    } catch {
      return false; // closed while listed
    }
  }).length;
}

const settle = () => new Promise((r) => setTimeout(r, 100));

describe.runIf(process.platform === 'linux')('idle S3 connections after a reduce fetch', () => {
  let server: ChildProcess;
  let clients: AwsClients;
  let blobs: BlobStore;
  let dir: string;

  beforeAll(async () => {
    server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const port = await new Promise<number>((resolve, reject) => {
      server.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      server.once('exit', (code) => reject(new Error(`keep-alive server exited with ${code}`)));
    });
    clients = createClients({ endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1' });
    blobs = new BlobStore(clients);
    dir = mkdtempSync(path.join(os.tmpdir(), 'mr-idle-sockets-'));
  });
  afterAll(() => {
    if (clients) destroyClients(clients);
    server?.kill();
    rmSync(dir, { recursive: true, force: true });
  });

  it("reuses the other services' idle connections to the same endpoint: the fetch holds at most its concurrency in all", async () => {
    // Fresh clients: no connection is open yet, whatever the other cases did.
    const own = createClients({ endpoint: clients.endpoint, region: 'us-east-1' });
    try {
      const before = openSockets();
      // A worker's claim, job read and heartbeat (DynamoDB) and its poll and delete (SQS)
      // run in parallel and leave their connections idle when the reduce starts fetching.
      await Promise.all([1, 2, 3].map(() => own.ddb.send(new ListTablesCommand({}))));
      await Promise.all([1, 2].map(() => own.sqs.send(new ListQueuesCommand({}))));
      const idle = openSockets() - before;
      expect(idle).toBeGreaterThanOrEqual(3);
      const read = new BlobStore(own).rangeReader('b');
      let peak = 0;
      // Counted while each GET's connection is still in use (its body not read yet).
      const counted = async (key: string, start: number, end: number) => {
        const body = await read(key, start, end);
        peak = Math.max(peak, openSockets() - before);
        return body;
      };
      const fetcher = new SliceFetcher(counted, mkdtempSync(path.join(dir, 'shared-')));
      await fetcher.fetch(Array.from({ length: 200 }, (_, i) => ({ slice: { key: `map/${i}`, start: 0, end: 10 }, index: i })));
      expect(fetcher.segments()).toHaveLength(200);
      // One pool per endpoint: the idle connections carried GETs, none was opened beside them.
      expect(peak).toBeGreaterThan(1);
      expect(peak).toBeLessThanOrEqual(DEFAULT_FETCH.concurrency);
      // Closing the idle ones after the fetch leaves the worker no connection to this endpoint.
      new BlobStore(own).closeIdleConnections();
      await settle();
      expect(openSockets() - before).toBe(0);
    } finally {
      destroyClients(own);
    }
  });

  it('holds at most the fetch concurrency whatever the number of slices, and none after closing the idle ones', async () => {
    const before = openSockets();
    // Through the bucket's read client, as a reduce fetches (it shares the general client's sockets).
    const fetcher = new SliceFetcher(blobs.rangeReader('b'), dir);
    const round = (from: number, n: number) =>
      Array.from({ length: n }, (_, i) => ({ slice: { key: `map/${from + i}`, start: 10, end: 20 }, index: from + i }));
    await fetcher.fetch(round(0, 40));
    const afterFew = openSockets() - before;
    await fetcher.fetch(round(40, 400));
    const afterMany = openSockets() - before;
    // Keep-alive holds the fetch's connections (so the check below can fail), never more than it ran at once.
    expect(afterFew).toBeGreaterThan(1);
    expect(afterMany).toBeLessThanOrEqual(DEFAULT_FETCH.concurrency);
    expect(fetcher.segments()).toHaveLength(440);

    expect(blobs.closeIdleConnections()).toBe(afterMany);
    await settle();
    expect(openSockets() - before).toBe(0);
    // The client still works: a new connection, then idle again.
    const body = await blobs.getRange('b', 'map/0', 0, 3);
    const chunks: Buffer[] = [];
    for await (const c of body) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('xxx');
    expect(blobs.closeIdleConnections()).toBe(1);
  });
});
