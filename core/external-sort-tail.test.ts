import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExternalSorter, keepsFilling, TAIL_ALLOWANCE, type SortOptions } from './external-sort.js';
import { releaseSpareSortStorage } from './byte-sort-buffer.js';
import { encodeLines } from './records.js';
import { mulberry32 as prng } from './prng.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-sort-tail-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Sort-like map output: distinct printable keys of `width` bytes and a payload, random order. */
function records(rnd: () => number, n: number, width: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    let k = '';
    for (let j = 0; j < 10; j++) k += String.fromCharCode(0x20 + Math.floor(rnd() * 95));
    return `${k}\t${String(i).padStart(width - 11, '.')}`;
  });
}

/**
 * Feed `lines` as byte blocks of random sizes, reporting the fraction of lines fed before
 * each block as the map's input read (as the map task counts a block once it was taken),
 * and return the sorter and the bytes written per partition.
 */
async function run(opts: SortOptions, lines: string[], rnd: () => number, withProgress: boolean) {
  // Each run sizes its own arena (a released buffer's would serve the next sorter).
  releaseSpareSortStorage();
  let fed = 0;
  const sorter = new ExternalSorter({ ...opts, inputRead: withProgress ? () => fed / lines.length : undefined });
  for (let i = 0; i < lines.length; ) {
    const n = 1 + Math.floor(rnd() * 60);
    await sorter.addBytes(encodeLines(lines.slice(i, i + n)));
    i += n;
    fed = Math.min(i, lines.length);
  }
  const parts: string[] = [];
  await sorter.finish(async (p, sorted) => {
    const got: Buffer[] = [];
    for await (const b of sorted) got.push(Array.isArray(b) ? encodeLines(b) : Buffer.from(b.bytes));
    parts[p] = Buffer.concat(got).toString('latin1');
  });
  await sorter.cleanup();
  return { stats: sorter.stats, parts };
}

describe('keepsFilling', () => {
  it('keeps a fill whose scaled estimate stays within the allowance, and only with a known fraction read', () => {
    const L = 1000;
    expect(keepsFilling(1010, 0, L, 0.75)).toBe(true); // 1010 + 337 ≤ 1500
    expect(keepsFilling(1010, 0, L, 1)).toBe(true);
    expect(keepsFilling(1010, 0, L, 0.5)).toBe(false); // 1010 + 1010
    expect(keepsFilling(L * (1 + TAIL_ALLOWANCE) + 1, 0, L, 1)).toBe(false);
    // A later fill: the rest is scaled from the whole output so far, spilled fills included.
    expect(keepsFilling(1010, 1000, L, 0.86)).toBe(true); // 1010 + 327
    expect(keepsFilling(1010, 1000, L, 0.75)).toBe(false); // 1010 + 670
    for (const read of [0, -1, 1.5, Number.NaN]) expect(keepsFilling(1010, 0, L, read)).toBe(false);
  });
});

describe('ExternalSorter, the last fill', () => {
  const cases = [
    // name, records, record bytes, buffer, spills expected with the input's progress
    ['a map a little bigger than the buffer keeps its last fill in memory', 4000, 100, 400_000, 0],
    ['a map 2.3 times the buffer spills once, keeping its last fill', 7000, 100, 400_000, 1],
    ['a map 2.7 times the buffer spills twice, as before', 8000, 100, 400_000, 2],
    // 2,000-byte lines: the estimate fits the allowance, but the lines would not fit the arena (4.5 MiB).
    ['a last fill whose lines pass the arena spills', 3000, 2000, 4 * 1024 * 1024, 1],
  ] as const;
  for (const [name, n, width, bufferBytes, spills] of cases) {
    for (const R of [1, 4]) {
      it(`${name} (R=${R}); output equal to the sort without a spill`, async () => {
        const rnd = prng(n + R);
        const lines = records(rnd, n, width);
        const opts = { numPartitions: R, bufferBytes, spillDir: dir, countRepeats: false, bytes: true };
        const reference = await run({ ...opts, bufferBytes: 1 << 28 }, lines, prng(1), false);
        const without = await run(opts, lines, prng(2), false);
        const tail = await run(opts, lines, prng(2), true);
        expect(reference.stats.spills).toBe(0);
        expect(without.stats.spills).toBeGreaterThan(0);
        expect(tail.stats.spills).toBe(spills);
        expect(tail.parts).toEqual(reference.parts);
        expect(without.parts).toEqual(reference.parts);
      });
    }
  }
});
