/**
 * S3 access for the framework: ranged reads as streams, single-PUT uploads of
 * local files (one request per intermediate object), copies, listings.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import type { S3Location } from '../core/s3uri.js';
import { bucketRangeReader } from './bucket-readers.js';
import { type AwsClients, closeIdleS3Sockets } from './clients.js';
import { reusingFileBody } from './file-body.js';

export interface ObjectInfo {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
}

/** S3 allows up to 5 GiB in one PutObject; above that we would need multipart. */
const MAX_SINGLE_PUT = 5 * 1024 ** 3;
/** Read size of a file being uploaded. */
const PUT_READ_BYTES = 4 * 1024 * 1024;

/** S3's x-amz-checksum-crc32 value: the big-endian CRC-32, base64. */
export function crc32Header(crc: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(crc >>> 0);
  return b.toString('base64');
}

/** Most keys one DeleteObjects request takes. */
export const DELETE_BATCH = 1000;

export class BlobStore {
  constructor(private readonly c: AwsClients) {}

  /**
   * True when an upload's CRC-32 is worth computing: S3 checks the `x-amz-checksum-crc32` it is
   * sent against the bytes it received. An emulator endpoint (moto) stores the value without
   * checking it, so against one the writers skip the CRC (~0.45 CPU-ms per MiB, ~0.9 CPU-s of a
   * 1 GiB sort), as the clients already skip the SDK's own checksums there (aws/clients.ts).
   */
  get sendsChecksums(): boolean {
    return this.c.endpoint === undefined;
  }

  /** Close idle keep-alive connections (after a burst of parallel reads); returns how many. */
  closeIdleConnections(): number {
    return closeIdleS3Sockets(this.c);
  }

  /** Stream bytes [start, endExclusive) of an object (endExclusive undefined = to the end). */
  async getRange(bucket: string, key: string, start: number, endExclusive?: number): Promise<Readable> {
    const Range = endExclusive === undefined ? `bytes=${start}-` : `bytes=${start}-${endExclusive - 1}`;
    const out = await this.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range }));
    return out.Body as Readable;
  }

  /**
   * Ranged reads of one bucket's objects, `(key, start, endExclusive)` as `getRange`, signed
   * and sent without the SDK's per-request middleware stack (`bucketRangeReader`,
   * aws/lean-range-reader.ts), with the same errors and retries. For many small GETs, such
   * as a reduce's slice fetch.
   */
  rangeReader(bucket: string): (key: string, start: number, endExclusive: number) => Promise<Readable> {
    return bucketRangeReader(this.c, bucket);
  }

  /** Stream a whole object, with its size (ContentLength) from the same answer. */
  async getSized(bucket: string, key: string): Promise<{ body: Readable; size: number }> {
    const out = await this.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    // The size bounds what is read (and resumed): never guessed.
    if (out.ContentLength === undefined) throw new Error(`GET s3://${bucket}/${key} answered without a Content-Length`);
    return { body: out.Body as Readable, size: out.ContentLength };
  }

  async getObject(bucket: string, key: string): Promise<Readable> {
    const out = await this.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return out.Body as Readable;
  }

  async getText(bucket: string, key: string): Promise<string> {
    const out = await this.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await out.Body?.transformToString('utf8')) ?? '';
  }

  /** The text of an object, or undefined when it does not exist. */
  async getTextIfExists(bucket: string, key: string): Promise<string | undefined> {
    try {
      return await this.getText(bucket, key);
    } catch (err) {
      if (err instanceof NoSuchKey || (err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /**
   * The text of an object of at most `maxBytes` (one GET: the size comes with the answer,
   * and a bigger body is dropped unread), `{ size }` when it is bigger, undefined when it
   * does not exist.
   */
  async getTextWithin(bucket: string, key: string, maxBytes: number): Promise<{ text: string } | { size: number } | undefined> {
    try {
      const out = await this.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      const size = out.ContentLength ?? 0;
      if (size > maxBytes) {
        (out.Body as Readable | undefined)?.destroy();
        return { size };
      }
      return { text: (await out.Body?.transformToString('utf8')) ?? '' };
    } catch (err) {
      if (err instanceof NoSuchKey || (err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  /** The bytes of an object, or undefined when it does not exist. */
  async getBytesIfExists(bucket: string, key: string): Promise<Buffer | undefined> {
    try {
      const out = await this.c.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return Buffer.from((await out.Body?.transformToByteArray()) ?? []);
    } catch (err) {
      if (err instanceof NoSuchKey || (err as Error).name === 'NoSuchKey') return undefined;
      throw err;
    }
  }

  async head(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await this.c.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { bucket, key, size: out.ContentLength ?? 0 };
    } catch (err) {
      if (err instanceof NotFound || (err as Error).name === 'NotFound' || (err as Error).name === 'NoSuchKey') {
        return undefined;
      }
      throw err;
    }
  }

  async putBytes(bucket: string, key: string, body: string | Uint8Array, contentType?: string): Promise<void> {
    const ContentLength = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    await this.c.s3.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength, ContentType: contentType }),
    );
  }

  /**
   * Upload a local file with exactly one PutObject request. With the file's CRC-32 (its
   * writer computed it on the way to disk), S3 checks the upload against it and the SDK
   * does not read the body a second time for a checksum sent in an aws-chunked trailer.
   */
  async putFile(bucket: string, key: string, path: string, opts: { crc32?: number } = {}): Promise<number> {
    const { size } = await stat(path);
    if (size > MAX_SINGLE_PUT) throw new Error(`${path} is ${size} bytes, above the 5 GiB single-PUT limit`);
    // 4 MiB reads: a streamed body is sent (checksummed) in chunks of the stream's reads, and
    // fewer, larger chunks cost less on both ends (the emulator's decoding of them is quadratic
    // in their number: 64 KiB reads made a 256 MiB upload take minutes). A smaller file is read
    // in one read of its size: a file stream allocates a whole read's buffer before it reads,
    // and 4 MiB for every tiny map output left glibc holding freed blocks (worker RSS grew with
    // the map tasks it ran).
    //
    // The body ends right after its last bytes (a file stream bounded by `end`, inclusive, or
    // the reusing body below, which ends once `size` bytes are read), with no further read to
    // find the end of the file. Unbounded, the server could answer (ContentLength bytes
    // received) before that read: the SDK resolved, the stream was destroyed before its end,
    // and the request was never ended. On a keep-alive connection (S3, the emulator's
    // keep-alive handler) Node then holds the socket in use, referenced, until SOCKET_IDLE_MS
    // drops it: ~1 upload in 16 kept a process alive ~30 s after its work (the `mapreduce run`
    // exit stall of docs/performance.md, session 12).
    // With the CRC-32 given, or against an endpoint where the SDK computes none (its
    // WHEN_REQUIRED setting), the SDK sends the stream as it is (piped into the request), so
    // the file can be read into two reused buffers (aws/file-body.ts); otherwise the SDK's
    // checksum wrapper queues the chunks unread, so each read gets its own buffer.
    const body =
      size === 0
        ? Buffer.alloc(0)
        : opts.crc32 === undefined && this.sendsChecksums
          ? createReadStream(path, { start: 0, end: size - 1, highWaterMark: Math.min(PUT_READ_BYTES, size) })
          : reusingFileBody(path, size, PUT_READ_BYTES);
    try {
      await this.c.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentLength: size,
          ChecksumCRC32: opts.crc32 === undefined ? undefined : crc32Header(opts.crc32),
        }),
      );
    } finally {
      // A failed request leaves the stream unread: close its file (else one descriptor of a
      // deleted map output kept per such upload). Wait for the close too: a caller that deletes
      // the file and then counts its open files (test/foundation/blob-uploads.test.ts) must not
      // see the descriptor still closing.
      if (!Buffer.isBuffer(body) && !body.closed) {
        await new Promise<void>((resolve) => {
          body.once('close', () => resolve());
          body.destroy();
        });
      }
    }
    return size;
  }

  async copy(from: S3Location, to: S3Location): Promise<void> {
    await this.c.s3.send(
      new CopyObjectCommand({
        Bucket: to.bucket,
        Key: to.key,
        CopySource: `${from.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`,
      }),
    );
  }

  /** Delete one object (done, too, when it does not exist). Workers may delete only under tmp/. */
  async delete(bucket: string, key: string): Promise<void> {
    await this.c.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  }

  /**
   * Delete objects in batches of DELETE_BATCH (the DeleteObjects limit), one request each;
   * throws naming the keys S3 reports it could not delete.
   */
  async deleteMany(bucket: string, keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_BATCH) {
      const batch = keys.slice(i, i + DELETE_BATCH);
      const out = await this.c.s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      const failed = out.Errors ?? [];
      if (failed.length > 0) {
        const first = failed[0]!;
        throw new Error(`Could not delete ${failed.length} of ${batch.length} objects in ${bucket}, e.g. ${first.Key}: ${first.Code} ${first.Message}`);
      }
    }
  }

  /** Every object under a prefix, in key order. */
  async list(bucket: string, prefix: string, limit = Number.POSITIVE_INFINITY): Promise<ObjectInfo[]> {
    const found: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const out = await this.c.s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const o of out.Contents ?? []) {
        if (o.Key !== undefined) found.push({ bucket, key: o.Key, size: o.Size ?? 0 });
        if (found.length >= limit) return found;
      }
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return found;
  }

  /** True when at least one object exists under the prefix. */
  async hasAny(bucket: string, prefix: string): Promise<boolean> {
    return (await this.list(bucket, prefix, 1)).length > 0;
  }
}
