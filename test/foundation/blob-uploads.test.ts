/**
 * BlobStore.putFile against the emulator: every upload closes its file. A worker uploads
 * one map output per map attempt and deletes it; a stream the request stopped reading
 * before its end kept the deleted file open (~1 upload in 10), so a worker's open files
 * grew with the number of map tasks it ran. Descriptors are read from /proc/self/fd.
 */
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../aws/blob-store.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { ENDPOINT } from '../helpers/stack.js';

/** Files under `dir` this process holds open (deleted ones included). */
function openFilesUnder(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target.startsWith(dir) ? [target] : [];
    } catch {
      return []; // closed while listed
    }
  });
}

describe.runIf(process.platform === 'linux')('BlobStore.putFile', () => {
  let clients: AwsClients;
  let blobs: BlobStore;
  let dir: string;
  const bucket = `uploads-${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    clients = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    blobs = new BlobStore(clients);
    dir = mkdtempSync(path.join(os.tmpdir(), 'mr-uploads-'));
  });
  afterAll(() => {
    if (clients) destroyClients(clients);
    rmSync(dir, { recursive: true, force: true });
  });

  it('closes every uploaded file, tiny and empty ones included (200 uploads, then no descriptor left)', async () => {
    for (let i = 0; i < 200; i++) {
      const file = path.join(dir, `map-output-${i}`);
      writeFileSync(file, i % 3 === 0 ? '' : `k${i}\tv\n`);
      await blobs.putFile(bucket, `tiny/${i}`, file);
      rmSync(file);
    }
    expect(openFilesUnder(dir)).toEqual([]);
    expect(await blobs.getText(bucket, 'tiny/1')).toBe('k1\tv\n');
    expect(await blobs.getText(bucket, 'tiny/3')).toBe('');
  });

  it('uploads a file of several reads byte for byte, and closes it', async () => {
    const bytes = randomBytes(9 * 1024 * 1024 + 123); // more than two 4 MiB reads
    const file = path.join(dir, 'big');
    writeFileSync(file, bytes);
    expect(await blobs.putFile(bucket, 'big', file)).toBe(bytes.length);
    rmSync(file);
    expect(openFilesUnder(dir)).toEqual([]);
    const chunks: Buffer[] = [];
    for await (const c of await blobs.getObject(bucket, 'big')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });

  it('with the CRC-32 given (the reused read buffers of aws/file-body.ts), uploads tiny, empty and multi-read files byte for byte, and closes them', async () => {
    for (let i = 0; i < 50; i++) {
      const file = path.join(dir, `crc-tiny-${i}`);
      const text = i % 3 === 0 ? '' : `k${i}\tv\n`;
      writeFileSync(file, text);
      await blobs.putFile(bucket, `crc-tiny/${i}`, file, { crc32: zlib.crc32(text) });
      rmSync(file);
    }
    expect(await blobs.getText(bucket, 'crc-tiny/1')).toBe('k1\tv\n');
    expect(await blobs.getText(bucket, 'crc-tiny/3')).toBe('');
    // Five 4 MiB reads and a short one: each of the two buffers is read into again three times.
    const bytes = randomBytes(20 * 1024 * 1024 + 4567);
    const file = path.join(dir, 'crc-big');
    writeFileSync(file, bytes);
    expect(await blobs.putFile(bucket, 'crc-big', file, { crc32: zlib.crc32(bytes) })).toBe(bytes.length);
    rmSync(file);
    expect(openFilesUnder(dir)).toEqual([]);
    const chunks: Buffer[] = [];
    for await (const c of await blobs.getObject(bucket, 'crc-big')) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).equals(bytes)).toBe(true);
  });
});
