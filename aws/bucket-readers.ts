/**
 * The per-bucket readers of an S3 client made by `createClients` (aws/clients.ts): the lean
 * ranged reader of the reduce's slice fetch (`bucketRangeReader`) and the cached-middleware
 * client it falls back to (`bucketReadClient`), each made once per bucket on first use and
 * kept beside the general client, which `createClients` registers here with how to make
 * them. A client made elsewhere (a test's) has none: its reads go through it as they are.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import type { RangeRead } from './lean-range-reader.js';

/** How `createClients` makes a bucket's readers for its general client. */
export interface BucketReaderFactory {
  /** The cached-middleware GetObject client of one bucket. */
  readonly makeClient: (bucket: string) => S3Client;
  /** The lean ranged reader of one bucket. */
  readonly makeRangeReader: (bucket: string) => RangeRead;
  /** Releases what the factory holds beside the readers (the lean reader's error decoder). */
  readonly close: () => void;
}

interface BucketReaders extends BucketReaderFactory {
  readonly clients: Map<string, S3Client>;
  readonly rangeReaders: Map<string, RangeRead>;
}
const readersOf = new WeakMap<S3Client, BucketReaders>();

/** Give `s3` its per-bucket readers (createClients). */
export function registerBucketReaders(s3: S3Client, factory: BucketReaderFactory): void {
  readersOf.set(s3, { ...factory, clients: new Map(), rangeReaders: new Map() });
}

/** Destroy the readers made for `s3` (destroyClients). */
export function destroyBucketReaders(s3: S3Client): void {
  const readers = readersOf.get(s3);
  readers?.close();
  for (const client of readers?.clients.values() ?? []) client.destroy();
}

/**
 * The S3 client for ranged GETs of one bucket's objects when the lean reader
 * (`bucketRangeReader`) cannot take them (an endpoint that needs another auth scheme than
 * SigV4; it was the reduce's slice fetch client in sessions 11-13): the general client's
 * configuration, request handler and sockets, with the SDK's `cacheMiddleware`. Without it, each request resolves the whole middleware stack again
 * (`resolveMiddleware`: the stack's copy, its sort, every middleware's closure), and that
 * garbage, promoted by the concurrent GETs, is what grows a reducer's old space with the
 * number of slices (docs/performance.md, `scale_curve`).
 *
 * Why only here: a cached handler shares one handler context among all requests of a
 * command class, and middlewares write per-request facts into it (`endpointV2`,
 * `authSchemes`, `signing_region`, the selected auth scheme and its identity), read later
 * in the same request. For GetObject of one bucket, with no per-call options, every
 * request writes the same endpoint, auth scheme and region, so concurrent requests cannot
 * see another's different values; the identity written is the credential provider's
 * current one. A middleware refuses any other command or bucket. Clients not made by
 * `createClients` get the general client.
 */
export function bucketReadClient(c: { readonly s3: S3Client }, bucket: string): S3Client {
  const readers = readersOf.get(c.s3);
  if (!readers) return c.s3;
  let client = readers.clients.get(bucket);
  if (!client) {
    client = readers.makeClient(bucket);
    readers.clients.set(bucket, client);
  }
  return client;
}

/** Ranged GETs of one bucket through a client (the cached-middleware one). */
export function cachedClientReader(client: S3Client, bucket: string): RangeRead {
  return async (key, start, endExclusive) => {
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${endExclusive - 1}` }));
    return out.Body as Readable;
  };
}

/**
 * Ranged reads of one bucket's objects for many small GETs (the reduce's slice fetch),
 * `(key, start, endExclusive)`: signed and sent without the SDK's per-request middleware
 * stack (aws/lean-range-reader.ts), through the general client's request handler, sockets,
 * retry strategy and credentials, with the SDK's own errors. Each read is counted and
 * observed as one `S3.GetObject`, as through the client. One reader per bucket (it keeps
 * the bucket's resolved endpoint and signer). Clients not made by `createClients` read
 * through the general client.
 */
export function bucketRangeReader(c: { readonly s3: S3Client }, bucket: string): RangeRead {
  const readers = readersOf.get(c.s3);
  if (!readers) return cachedClientReader(c.s3, bucket);
  let reader = readers.rangeReaders.get(bucket);
  if (!reader) {
    reader = readers.makeRangeReader(bucket);
    readers.rangeReaders.set(bucket, reader);
  }
  return reader;
}
