import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { codecOf, decompress, UNSUPPORTED_COMPRESSION_SUFFIXES, UnsupportedCompressionError } from './compression.js';

const TEXT = Buffer.from(Array.from({ length: 5000 }, (_, i) => `line ${i}\tcaf\xe9\n`).join(''), 'latin1');

/** Compressed with the system tool (a real encoder, not ours). */
function compressWith(tool: 'bzip2' | 'zstd', data: Buffer): Buffer {
  return execFileSync(tool, ['-c'], { input: data });
}

/** Feed in small chunks, as a ranged S3 read would. */
async function* chunks(data: Buffer, size = 777): AsyncIterable<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

describe('codecOf', () => {
  it('knows the codecs we read by suffix, case-insensitively', () => {
    expect(codecOf('logs/a.gz')).toBe('gzip');
    expect(codecOf('logs/a.BZ2')).toBe('bzip2');
    expect(codecOf('logs/a.zst')).toBe('zstd');
    expect(codecOf('logs/a.deflate')).toBe('deflate');
    expect(codecOf('logs/a.txt')).toBeUndefined();
    expect(codecOf('logs.gz/a')).toBeUndefined();
  });

  it.each(UNSUPPORTED_COMPRESSION_SUFFIXES)('refuses %s with an error naming the file', (suffix) => {
    expect(() => codecOf(`in/part-00000${suffix}`)).toThrow(UnsupportedCompressionError);
    expect(() => codecOf(`in/part-00000${suffix}`)).toThrow(`in/part-00000${suffix}`);
  });
});

describe('decompress', () => {
  it.each([
    ['gzip', () => gzipSync(TEXT)],
    ['gzip', () => Buffer.concat([gzipSync(TEXT.subarray(0, 1000)), gzipSync(TEXT.subarray(1000))])],
    ['deflate', () => deflateSync(TEXT)],
    ['bzip2', () => compressWith('bzip2', TEXT)],
    ['zstd', () => compressWith('zstd', TEXT)],
  ] as const)('reads %s streams back to the original bytes', async (codec, make) => {
    const out = await buffer(decompress(codec, chunks(make())));
    expect(out.equals(TEXT)).toBe(true);
  });

  it.each(['gzip', 'bzip2', 'zstd'] as const)('fails on corrupt %s input instead of yielding bytes', async (codec) => {
    const junk = Buffer.from('this is not compressed at all, just text\n'.repeat(50));
    await expect(buffer(decompress(codec, Readable.from([junk])))).rejects.toThrow();
  });
});
