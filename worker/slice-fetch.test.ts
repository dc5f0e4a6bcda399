import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_FETCH, SliceFetcher } from './slice-fetch.js';

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
});
