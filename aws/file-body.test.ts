import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { reusingFileBody } from './file-body.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'file-body-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileOf(bytes: Buffer, name: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, bytes);
  return file;
}

describe('reusingFileBody', () => {
  it('piped into a slow writable, every chunk still holds its bytes when its write completes', async () => {
    // 37 chunks of 64 KiB and a short one; the writable keeps each chunk (as a socket keeps
    // a chunk it has not sent) for 0-3 ms and only then compares it with the file.
    const bytes = randomBytes(37 * 65536 + 1000);
    const file = fileOf(bytes, 'slow');
    let at = 0;
    const mismatches: number[] = [];
    const sink = new Writable({
      highWaterMark: 16 * 1024,
      write(chunk: Buffer, _enc, cb) {
        const offset = at;
        at += chunk.length;
        setTimeout(() => {
          if (!chunk.equals(bytes.subarray(offset, offset + chunk.length))) mismatches.push(offset);
          cb();
        }, offset % 4);
      },
    });
    await new Promise<void>((resolve, reject) => {
      sink.on('finish', resolve).on('error', reject);
      reusingFileBody(file, bytes.length, 65536).on('error', reject).pipe(sink);
    });
    expect(mismatches).toEqual([]);
    expect(at).toBe(bytes.length);
  });

  it('piped into an HTTP request with a Content-Length (as the SDK sends it), the server receives the file byte for byte', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 77);
    const file = fileOf(bytes, 'http');
    const server = http.createServer((req, res) => {
      const got: Buffer[] = [];
      req.on('data', (c: Buffer) => got.push(c));
      req.on('end', () => res.end(Buffer.concat(got).equals(bytes) ? 'same' : `differs (${Buffer.concat(got).length} bytes)`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const answer = await new Promise<string>((resolve, reject) => {
        const req = http.request(
          { port: (server.address() as AddressInfo).port, host: '127.0.0.1', method: 'PUT', headers: { 'content-length': bytes.length } },
          (res) => {
            let text = '';
            res.setEncoding('latin1').on('data', (t: string) => (text += t)).on('end', () => resolve(text));
          },
        );
        req.on('error', reject);
        reusingFileBody(file, bytes.length, 1024 * 1024).on('error', reject).pipe(req);
      });
      expect(answer).toBe('same');
    } finally {
      server.close();
    }
  });

  it('an empty file ends at once; a file shorter than its size fails the stream', async () => {
    const chunks: Buffer[] = [];
    for await (const c of reusingFileBody(fileOf(Buffer.alloc(0), 'empty'), 0, 1024)) chunks.push(c as Buffer);
    expect(chunks).toEqual([]);
    const short = reusingFileBody(fileOf(Buffer.from('abc'), 'short'), 10, 1024);
    await expect(async () => {
      for await (const _ of short) void _;
    }).rejects.toThrow(/ended at 3 of 10 bytes/);
  });
});
