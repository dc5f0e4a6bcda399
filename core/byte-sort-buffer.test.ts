import { describe, expect, it } from 'vitest';
import { linesOf } from './byte-merge.js';
import { ByteSortBuffer, releaseSpareSortStorage, type ByteLines } from './byte-sort-buffer.js';
import { mulberry32 as prng } from './prng.js';
import { encodeLines } from './records.js';
import { SortBuffer } from './sort-buffer.js';

/** Random map output lines: keys of any byte but '\n' (bytes below '\t' when `unsafe`), empty keys, no-tab lines, shared prefixes, equal keys. */
function randomLines(rnd: () => number, n: number, unsafe: boolean): string[] {
  const keys: string[] = ['', 'a', 'ab', 'abcdef', 'abcdefg', 'abcdef\xff', '\xff\xfe', 'caf\xe9'];
  const byte = () => {
    for (;;) {
      const c = Math.floor(rnd() * 256);
      if (c === 10 || c === 9) continue;
      if (!unsafe && c < 9) continue;
      return String.fromCharCode(c);
    }
  };
  for (let i = 0; i < 300; i++) {
    const len = Math.floor(rnd() * 12);
    let k = rnd() < 0.3 ? keys[Math.floor(rnd() * keys.length)]! : '';
    for (let j = 0; j < len; j++) k += rnd() < 0.5 ? 'abc'[Math.floor(rnd() * 3)]! : byte();
    keys.push(k);
  }
  return Array.from({ length: n }, () => {
    const k = keys[Math.floor(rnd() ** 2 * keys.length)]!;
    const r = rnd();
    if (r < 0.1) return k;
    const v = Array.from({ length: Math.floor(rnd() * 5) }, () => (rnd() < 0.2 ? '\t' : byte())).join('');
    return `${k}\t${v}`;
  });
}

/** The lines in blocks of whole '\n'-ended lines of random sizes. */
function randomBlocks(rnd: () => number, lines: string[]): Buffer[] {
  const blocks: Buffer[] = [];
  for (let i = 0; i < lines.length; ) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 5 : 2000));
    blocks.push(encodeLines(lines.slice(i, i + n)));
    i += n;
  }
  return blocks;
}

async function drainStrings(streams: AsyncIterable<string[]>[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const s of streams) {
    const lines: string[] = [];
    for await (const b of s) lines.push(...b);
    out.push(lines);
  }
  return out;
}

async function drainBytes(streams: AsyncIterable<ByteLines>[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const s of streams) {
    const lines: string[] = [];
    for await (const b of s) {
      const ls = linesOf(b.bytes);
      expect(b.lines).toBe(ls.length);
      lines.push(...ls);
    }
    out.push(lines);
  }
  return out;
}

describe('ByteSortBuffer', () => {
  const cases: [string, number, string[] | undefined, boolean][] = [
    ['R = 1, keys with bytes below tab', 1, undefined, true],
    ['R = 3 hashed, keys with bytes below tab', 3, undefined, true],
    ['R = 3 hashed, safe keys (whole-line order)', 3, undefined, false],
    ['R = 4 total order, safe keys', 4, ['ab', 'b\x80', '\xe0'], false],
    ['R = 4 total order, keys with bytes below tab', 4, ['', 'abc', 'c'], true],
  ];
  for (const [name, R, points, unsafe] of cases) {
    for (const n of [50, 20_000]) {
      it(`gives the string SortBuffer's partitions and order exactly (${name}, ${n} lines, random blocks)`, async () => {
        const rnd = prng(n * 7 + R + (unsafe ? 1 : 0));
        const lines = randomLines(rnd, n, unsafe);
        const strings = new SortBuffer({ numPartitions: R, countRepeats: false, splitPoints: points });
        expect(strings.add(lines, 0, Infinity)).toBe(lines.length);
        const bytes = new ByteSortBuffer({ numPartitions: R, splitPoints: points });
        for (const block of randomBlocks(rnd, lines)) expect(bytes.add(block, 0, Infinity)).toBe(block.length);
        const want = await drainStrings(strings.take());
        const got = await drainBytes(bytes.take());
        expect(got.map((p) => p.length)).toEqual(want.map((p) => p.length));
        expect(got).toEqual(want);
        expect(bytes.isEmpty).toBe(true);
      });
    }
  }

  it('stops at the limit on a line boundary and takes the rest after a take, reusing its arena', async () => {
    const rnd = prng(5);
    const lines = randomLines(rnd, 30_000, false);
    const block = encodeLines(lines);
    const buffer = new ByteSortBuffer({ numPartitions: 2 });
    const all: string[] = [];
    let from = 0;
    let takes = 0;
    while (from < block.length) {
      const next = buffer.add(block, from, 100_000);
      expect(next === block.length || block[next - 1] === 10).toBe(true);
      expect(next).toBeGreaterThan(from);
      from = next;
      for (const p of await drainBytes(buffer.take())) all.push(...p);
      takes++;
    }
    expect(takes).toBeGreaterThan(5);
    expect(all.sort()).toEqual([...lines].sort());
  });

  it('a released buffer\'s storage serves the next buffer, whose output is its own exactly', async () => {
    const rnd = prng(9);
    const run = async (lines: string[], limit: number) => {
      const buffer = new ByteSortBuffer({ numPartitions: 3 });
      const parts: string[][] = [[], [], []];
      for (const block of randomBlocks(rnd, lines)) {
        let from = 0;
        while (from < block.length) {
          from = buffer.add(block, from, limit);
          if (from < block.length) (await drainBytes(buffer.take({ reuseBlocks: true }))).forEach((p, r) => parts[r]!.push(...p));
        }
      }
      (await drainBytes(buffer.take({ reuseBlocks: true }))).forEach((p, r) => parts[r]!.push(...p));
      buffer.release();
      return parts;
    };
    const reference = (lines: string[]) => {
      const strings = new SortBuffer({ numPartitions: 3, countRepeats: false });
      strings.add(lines, 0, Infinity);
      return drainStrings(strings.take());
    };
    // Big first (its arena is kept), then smaller ones that take it over, then a bigger one again.
    for (const n of [30_000, 2_000, 10_000, 50_000]) {
      const lines = randomLines(rnd, n, n === 10_000);
      const got = await run(lines, Infinity);
      const want = await reference(lines);
      expect(got.map((p) => [...p].sort())).toEqual(want.map((p) => [...p].sort()));
      // One fill (no limit): exactly the reference's order.
      expect(got).toEqual(want);
    }
    releaseSpareSortStorage();
  });

  it('holds a line longer than its first arena and than an output block', async () => {
    const long = `k\t${'x'.repeat(5 * 1024 * 1024)}`;
    const lines = ['b\t1', long, 'a\t2'];
    const buffer = new ByteSortBuffer({ numPartitions: 1 });
    buffer.add(encodeLines(lines.slice(0, 1)), 0, Infinity);
    buffer.add(encodeLines(lines.slice(1)), 0, Infinity);
    const [part] = await drainBytes(buffer.take());
    expect(part).toEqual(['a\t2', 'b\t1', long]);
  });

  it('refuses a block that does not end with a newline', () => {
    const buffer = new ByteSortBuffer({ numPartitions: 1 });
    expect(() => buffer.add(Buffer.from('a\tb'), 0, Infinity)).toThrow(/newline/);
  });
});
