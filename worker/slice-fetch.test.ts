import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FETCH, SLICE_WRITE_BYTES, SliceFetcher } from './slice-fetch.js';

/** Map outputs held in memory: key → bytes. */
const objects: Record<string, string> = {
  'map/m0': 'a\t1\nc\t1\n',
  'map/m1': 'b\t1\n',
  'map/m2': 'a\t2\nz\t9\n',
};
const get = async (key: string, start: number, end: number) => Readable.from([Buffer.from(objects[key]!.slice(start, end))]);
const slice = (key: string) => ({ key, start: 0, end: objects[key]!.length });

async function text(seg: { open(): AsyncIterable<Buffer> }): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of seg.open()) chunks.push(chunk);
  return Buffer.concat(chunks).toString('latin1').replace(/\n$/, '').split('\n').join('|');
}

describe('SliceFetcher (an early reducer fetches in rounds)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'slice-fetch-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('returns the segments in merge position order, whatever order the rounds came in', async () => {
    const f = new SliceFetcher(get, dir);
    await f.fetch([{ slice: slice('map/m2'), index: 2 }]);
    await f.fetch([
      { slice: slice('map/m1'), index: 1 },
      { slice: slice('map/m0'), index: 0 },
    ]);
    const segments = f.segments();
    expect(await Promise.all(segments.map(text))).toEqual(['a\t1|c\t1', 'b\t1', 'a\t2|z\t9']);
  });

  it('shares one in-memory budget across rounds: slices past it go to disk', async () => {
    // Budget for the first two slices (8 + 4 bytes) only.
    const f = new SliceFetcher(get, dir, { ...DEFAULT_FETCH, memoryBudget: 12 });
    await f.fetch([{ slice: slice('map/m0'), index: 0 }]);
    await f.fetch([{ slice: slice('map/m1'), index: 1 }]);
    await f.fetch([{ slice: slice('map/m2'), index: 2 }]);
    expect(f.stats).toMatchObject({ inMemory: 2, onDisk: 1 });
    expect(f.segments().map((s) => s.onDisk)).toEqual([false, false, true]);
    expect(await text(f.segments()[2]!)).toBe('a\t2|z\t9');
  });

  it('writes a slice that arrives in odd-sized chunks to disk byte for byte, across staging buffers', async () => {
    // 2.5 staging buffers of lines, delivered in chunks of 1..9000 bytes (a socket's pieces).
    const lines: string[] = [];
    for (let i = 0; lines.length * 20 < SLICE_WRITE_BYTES * 2.5; i++) lines.push(`k${String(i * 7919 % 100003).padStart(8, '0')}\tv${i}`);
    const bytes = Buffer.from(lines.sort().join('\n') + '\n', 'latin1');
    const chunked = (start: number, end: number) => {
      const parts: Buffer[] = [];
      for (let at = start, n = 1; at < end; at += n, n = (n * 31 + 7) % 9000 + 1) parts.push(bytes.subarray(at, Math.min(end, at + n)));
      return Readable.from(parts);
    };
    const f = new SliceFetcher(async (_k, s, e) => chunked(s, e), dir, { ...DEFAULT_FETCH, memoryBudget: 0 });
    await f.fetch([{ slice: { key: 'big', start: 0, end: bytes.length }, index: 0 }]);
    expect(f.stats).toMatchObject({ inMemory: 0, onDisk: 1, retries: 0 });
    const back: Buffer[] = [];
    for await (const c of f.segments()[0]!.open()) back.push(Buffer.from(c));
    expect(Buffer.concat(back).equals(bytes)).toBe(true);
  });

  it('retries a slice whose body ends short, and keeps only the full copy', async () => {
    let calls = 0;
    const shortOnce = async (key: string, start: number, end: number) =>
      Readable.from([Buffer.from(objects[key]!.slice(start, ++calls === 1 ? end - 3 : end))]);
    const f = new SliceFetcher(shortOnce, dir, { ...DEFAULT_FETCH, memoryBudget: 0, retryBaseMs: 1 });
    await f.fetch([{ slice: slice('map/m2'), index: 0 }]);
    expect(f.stats).toMatchObject({ onDisk: 1, retries: 1 });
    expect(await text(f.segments()[0]!)).toBe('a\t2|z\t9');
  });
});
