/**
 * runMain releases the clients of the targets a command resolved (cli/target.ts
 * releaseTargets): a request the command left in use (here a GetObject whose body is never
 * read) would otherwise keep its socket, and the process, alive until the SDK's idle timeout.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../aws/blob-store.js';
import { releaseTargets, resolveTarget } from '../../cli/target.js';
import { ENDPOINT, TestStack } from '../helpers/stack.js';

let t: TestStack;
beforeAll(async () => {
  t = await TestStack.start({ workers: 0 });
}, 60_000);
afterAll(async () => {
  await t?.stack.stop();
});

describe('releaseTargets', () => {
  it('closes a response left unread by a resolved target', async () => {
    const target = await resolveTarget({ endpoint: ENDPOINT, prefix: t.stack.options.prefix });
    const blobs = new BlobStore(target.clients);
    await blobs.putBytes(target.names.bucket, 'unread', randomBytes(4 * 1024 * 1024));
    const out = await target.clients.s3.send(new GetObjectCommand({ Bucket: target.names.bucket, Key: 'unread' }));
    const body = out.Body as Readable;
    body.on('error', () => {}); // 'aborted': cut short, the point of the release
    const closed = new Promise((r) => body.once('close', () => r('closed')));
    const late = new Promise((r) => setTimeout(r, 5_000, 'still open'));
    await releaseTargets();
    expect(await Promise.race([closed, late])).toBe('closed');
  }, 30_000);
});
