/**
 * Compressed input, chosen by file name suffix as Hadoop's CompressionCodecFactory
 * does. Each compressed file is one unsplit map task. A suffix of a codec we cannot
 * read is an error naming the file and the codecs we read: the mapper never gets
 * compressed bytes as text.
 */
import { pipeline, Readable, Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { Decompress } from 'fzstd';
import unbzip2 from 'unbzip2-stream';
import { UsageError } from './errors.js';

/** Codecs we decompress. */
export type Codec = 'gzip' | 'bzip2' | 'zstd' | 'deflate';

const READABLE: Readonly<Record<string, Codec>> = {
  '.gz': 'gzip',
  '.bz2': 'bzip2',
  '.zst': 'zstd',
  '.deflate': 'deflate',
};

/** Suffixes of Hadoop codecs (and common ones) that we cannot read. */
export const UNSUPPORTED_COMPRESSION_SUFFIXES: readonly string[] = [
  '.lz4',
  '.snappy',
  '.xz',
  '.lzo',
  '.lzo_deflate',
  '.lzma',
  '.br',
  '.z',
  '.zip',
  '.7z',
];

/** Input that cannot be read as text (an unsupported codec). */
export class UnsupportedCompressionError extends UsageError {
  override readonly name: string = 'UnsupportedCompressionError';
}

/**
 * The codec of an input object by its key's suffix; undefined for plain text.
 * Throws UnsupportedCompressionError for a compression suffix we cannot read.
 */
export function codecOf(key: string): Codec | undefined {
  const lower = key.toLowerCase();
  const dot = lower.lastIndexOf('.');
  if (dot < 0 || dot < lower.lastIndexOf('/')) return undefined;
  const suffix = lower.slice(dot);
  const codec = READABLE[suffix];
  if (codec !== undefined) return codec;
  if (UNSUPPORTED_COMPRESSION_SUFFIXES.includes(suffix)) {
    throw new UnsupportedCompressionError(
      `Input ${key} is ${suffix.slice(1)}-compressed, which cannot be read; ` +
        `recompress it as .gz, .bz2 or .zst (each file is one map task) or store it uncompressed`,
      { context: { key, suffix } },
    );
  }
  return undefined;
}

/** A Transform over fzstd's streaming decompressor. */
function zstdTransform(): Transform {
  const decoder = new Decompress((data) => {
    t.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      try {
        decoder.push(chunk);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
    flush(done) {
      try {
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  return t;
}

/**
 * unbzip2-stream is a classic "through" stream (not async-iterable): wrap it in a
 * Transform that forwards its data and errors.
 */
function bzip2Transform(): Transform {
  const inner = unbzip2();
  let finish: ((err?: Error | null) => void) | undefined;
  let failed: Error | undefined;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (failed) return done(failed);
      inner.write(chunk);
      done(failed ?? null);
    },
    flush(done) {
      if (failed) return done(failed);
      finish = done;
      inner.end();
    },
  });
  inner.on('data', (data: Buffer) => t.push(data));
  inner.on('error', (err: Error) => {
    failed = err;
    if (finish) finish(err);
    else t.destroy(err);
  });
  inner.on('end', () => finish?.());
  return t;
}

function decoderFor(codec: Codec): NodeJS.ReadWriteStream {
  switch (codec) {
    case 'gzip':
      return createGunzip();
    case 'deflate':
      return createInflate();
    case 'bzip2':
      return bzip2Transform();
    case 'zstd':
      return zstdTransform();
  }
}

/**
 * The decompressed bytes of `compressed`. Concatenated gzip members read as one
 * stream, like gunzip. A corrupt stream fails the iteration (and closes the source).
 */
export function decompress(codec: Codec, compressed: AsyncIterable<Buffer | Uint8Array>): Readable {
  // pipeline() destroys every stream on an error in any of them (a corrupt object must
  // also close the download); the error then surfaces from iterating the result.
  return pipeline(Readable.from(compressed, { objectMode: false }), decoderFor(codec), () => {}) as unknown as Readable;
}
