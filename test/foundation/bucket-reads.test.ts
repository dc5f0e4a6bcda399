/**
 * BlobStore.rangeReader against the emulator: the reduce's slice GETs, signed and sent
 * without the SDK's per-request middleware stack (aws/lean-range-reader.ts), with the SDK's
 * endpoint, request handler, retry strategy and errors. These tests read many distinct
 * ranges at once, from two buckets at once, through errors that must be retried, and after
 * an error that must surface as the SDK's, and compare every byte. (The emulator does not
 * check signatures: aws/lean-range-reader.test.ts verifies them.) bucketReadClient, the
 * cached-middleware client per bucket, is what the lean reader falls back to for endpoints
 * that need other than SigV4.
 */
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore } from '../../aws/blob-store.js';
import { bucketReadClient } from '../../aws/bucket-readers.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { forEachLimit } from '../../core/concurrency.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { ENDPOINT } from '../helpers/stack.js';

const OBJECTS = 48;

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

describe('BlobStore.rangeReader (the slice fetch client)', () => {
  let clients: AwsClients;
  let blobs: BlobStore;
  const suffix = randomBytes(4).toString('hex');
  const buckets = [`reads-a-${suffix}`, `reads-b-${suffix}`];
  /** contents[bucket][i]: object `o/i` of that bucket (the same keys in both, different bytes). */
  const contents: Record<string, Buffer[]> = {};

  beforeAll(async () => {
    clients = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
    blobs = new BlobStore(clients);
    for (const bucket of buckets) {
      await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
      contents[bucket] = Array.from({ length: OBJECTS }, () => randomBytes(200 + Math.floor(Math.random() * 800)));
      await forEachLimit([...contents[bucket]!.keys()], 8, (i) =>
        clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `o/${i}`, Body: contents[bucket]![i] })).then(() => undefined),
      );
    }
  });
  afterAll(() => {
    if (clients) destroyClients(clients);
  });

  /** Read a different range of every object of both buckets, `inFlight` at once, interleaved. */
  async function readAll(c: AwsClients, inFlight: number): Promise<void> {
    const store = new BlobStore(c);
    const readers = Object.fromEntries(buckets.map((b) => [b, store.rangeReader(b)]));
    const reads = buckets.flatMap((bucket) => contents[bucket]!.map((bytes, i) => ({ bucket, i, start: i % 7, end: bytes.length - (i % 5) })));
    reads.sort((x, y) => x.i - y.i); // a, b, a, b, ...: both buckets in flight together
    await forEachLimit(reads, inFlight, async ({ bucket, i, start, end }) => {
      const got = await bytesOf(await readers[bucket]!(`o/${i}`, start, end));
      expect(got.equals(contents[bucket]![i]!.subarray(start, end)), `${bucket} o/${i} [${start}, ${end})`).toBe(true);
    });
  }

  it('reads distinct ranges of two buckets, 32 at once, each byte for byte', async () => {
    await readAll(clients, 32);
    await readAll(clients, 32); // again, through the cached handlers
  });

  it('uses one cached-middleware client per bucket, which sends GetObject of its bucket only', async () => {
    const [a, b] = buckets.map((bucket) => bucketReadClient(clients, bucket));
    expect(a).not.toBe(clients.s3);
    expect(a).not.toBe(b);
    expect(bucketReadClient(clients, buckets[0]!)).toBe(a);
    expect(a!.config.cacheMiddleware).toBe(true);
    expect(clients.s3.config.cacheMiddleware).toBeFalsy();
    await expect(a!.send(new PutObjectCommand({ Bucket: buckets[0]!, Key: 'x', Body: 'x' }))).rejects.toThrow(/GetObject to it only/);
    const read = blobs.rangeReader(buckets[1]!);
    await expect(bytesOf(await read('o/0', 0, 10))).resolves.toEqual(contents[buckets[1]!]![0]!.subarray(0, 10));
  });

  it('surfaces a missing key as the SDK does, and the next reads still get their bytes', async () => {
    const read = blobs.rangeReader(buckets[0]!);
    await expect(read('o/missing', 0, 10)).rejects.toMatchObject({ name: 'NoSuchKey' });
    await readAll(clients, 16);
  });

  it('retries injected S3 errors as the general client does, concurrent reads each getting their own bytes', async () => {
    const proxy = await FaultProxy.start({ target: ENDPOINT, seed: 13, maxLifetimeMs: 120_000 });
    const c = createClients({ endpoint: proxy.endpoint, region: 'us-east-1' }, { MR_AWS_MAX_ATTEMPTS: '10' });
    try {
      proxy.setRates({ error: 0.3 });
      await readAll(c, 16);
      expect(proxy.counts.error).toBeGreaterThan(0);
      // Every attempt failing: the SDK's error after its attempts, as through the general client.
      const c2 = createClients({ endpoint: proxy.endpoint, region: 'us-east-1' }, { MR_AWS_MAX_ATTEMPTS: '2' });
      try {
        proxy.setRates({ error: 1 });
        const before = proxy.counts.error;
        const err = (await new BlobStore(c2).rangeReader(buckets[0]!)('o/1', 0, 5).catch((e: unknown) => e)) as Error & {
          $metadata: { attempts: number };
        };
        expect(['SlowDown', 'InternalError']).toContain(err.name);
        expect(err.$metadata.attempts).toBe(2);
        expect(proxy.counts.error - before).toBe(2);
      } finally {
        destroyClients(c2);
      }
    } finally {
      destroyClients(c);
      await proxy.close();
    }
  });
});
