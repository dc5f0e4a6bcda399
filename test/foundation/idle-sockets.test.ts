/**
 * A reduce's slice fetch over keep-alive connections (as S3 keeps them): the sockets a
 * worker holds are bounded by the fetch concurrency, not by the number of slices, and
 * `closeIdleConnections` after the fetch leaves none open. The S3 side here is a small
 * keep-alive server in a child process (its sockets are not this process's). Descriptors are read from
 * /proc/self/fd.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../aws/blob-store.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { DEFAULT_FETCH, SliceFetcher } from '../../worker/slice-fetch.js';

/** Answers every GET with the requested range of a 1,000-byte object, keeping the connection open. */
const SERVER = `
const http = require('node:http');
const body = Buffer.alloc(1000, 'x');
const server = http.createServer((req, res) => {
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

  it('holds at most the fetch concurrency whatever the number of slices, and none after closing the idle ones', async () => {
    const before = openSockets();
    const fetcher = new SliceFetcher(async (key, start, end) => (await blobs.getRange('b', key, start, end)) as Readable, dir);
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
