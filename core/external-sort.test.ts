import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { expandCounted } from './counted-lines.js';
import { linesOf } from './byte-merge.js';
import { ExternalSorter, type GroupCombiner, type SortOptions, type StreamCombiner } from './external-sort.js';
import { groupBatches } from './merge.js';
import { partitionOf } from './partition.js';
import type { SortedBatch } from './map-output.js';
import { encodeLines, keyOf } from './records.js';
import { mulberry32 as prng } from './prng.js';

const keyBytes = (l: string) => Buffer.from(keyOf(l), 'latin1');
const byKeyBytes = (a: string, b: string) => Buffer.compare(keyBytes(a), keyBytes(b));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-sort-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Word-count-like map output: keys from a small skewed vocabulary, some odd bytes. */
function mapOutput(rnd: () => number, n: number): string[] {
  const vocab = ['the', 'a', 'caf\xe9', '\xff\xfe', 'x\x01y', '', 'long-key-that-is-more-than-13-chars', 'b\r'];
  for (let i = 0; i < 200; i++) vocab.push(`w${i}`);
  return Array.from({ length: n }, () => {
    const w = vocab[Math.floor(rnd() ** 2 * vocab.length)]!;
    return rnd() < 0.05 ? w : `${w}\t${1 + Math.floor(rnd() * 3)}`;
  });
}

/** A sorted batch's lines (byte blocks decoded). */
const linesIn = (b: SortedBatch): string[] => (Array.isArray(b) ? b : linesOf(b.bytes));

/**
 * Feed lines in random batches (as line strings, or as bytes like an executable's stdout),
 * finish, and return what was written per partition.
 */
async function runSorter(opts: SortOptions, lines: string[], rnd: () => number, feed: 'lines' | 'bytes' = 'lines') {
  const sorter = new ExternalSorter(opts);
  for (let i = 0; i < lines.length; ) {
    const n = 1 + Math.floor(rnd() * 300);
    const batch = lines.slice(i, i + n);
    await (feed === 'bytes' ? sorter.addBytes(encodeLines(batch)) : sorter.add(batch));
    i += n;
  }
  // Every record counted once, whichever buffer took it (MAP_OUTPUT_RECORDS comes from this count).
  expect(sorter.recordsAdded).toBe(lines.length);
  const parts: string[][] = [];
  const order: number[] = [];
  const bytes: Buffer[] = [];
  await sorter.finish(async (p, sorted) => {
    order.push(p);
    const out: string[] = [];
    const got: Buffer[] = [];
    // A counted output (core/counted-lines.ts) is read as the reducer reads it: expanded.
    const blocks = sorter.outputIsCounted ? expandCounted(asBlockBytes(sorted)) : sorted;
    for await (const b of blocks) {
      out.push(...linesIn(b));
      got.push(Array.isArray(b) ? encodeLines(b) : Buffer.from(b.bytes));
    }
    parts[p] = out;
    bytes[p] = Buffer.concat(got);
  });
  return { sorter, parts, order, bytes };
}

async function* asBlockBytes(sorted: AsyncIterable<SortedBatch>): AsyncIterable<Buffer> {
  for await (const b of sorted) yield Array.isArray(b) ? encodeLines(b) : Buffer.from(b.bytes);
}

function expectSortedAndPartitioned(parts: string[][], R: number): void {
  // Plain checks first: one expect per line would dominate the test's time.
  const bad: string[] = [];
  parts.forEach((lines, p) => {
    for (let i = 1; i < lines.length; i++) if (byKeyBytes(lines[i - 1]!, lines[i]!) > 0) bad.push(`order ${i}`);
    for (const l of lines) if (partitionOf(keyOf(l), R) !== p) bad.push(`partition of ${l}`);
  });
  expect(bad).toEqual([]);
}

/** Sum of the values per key (a line without a value counts 1). */
function sums(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    const tab = l.indexOf('\t');
    const k = tab < 0 ? l : l.slice(0, tab);
    m.set(k, (m.get(k) ?? 0) + (tab < 0 || tab === l.length - 1 ? 1 : Number(l.slice(tab + 1))));
  }
  return m;
}

const sumLine = (key: string, values: string[]) =>
  `${key}\t${values.reduce((s, v) => s + (v === '' ? 1 : Number(v)), 0)}`;
const sumCombiner: GroupCombiner = (key, values) => [sumLine(key, values)];

/** A stream combiner that sums adjacent equal keys, like an external combiner process would. */
const streamSum: StreamCombiner = async function* (sorted) {
  for await (const runs of groupBatches(sorted)) {
    yield runs.map(([k, lines]) =>
      sumLine(
        k,
        lines.map((l) => (l.length > k.length ? l.slice(k.length + 1) : '')),
      ),
    );
  }
};

describe('ExternalSorter', () => {
  for (const [R, countRepeats] of [
    [1, true],
    [3, true],
    [3, false],
  ] as const) {
    for (const [bytes, feed] of [[false, 'lines'], [true, 'lines'], [true, 'bytes']] as const)
    it(`without a combiner sorts and partitions every line (R=${R}, counting ${countRepeats}, bytes ${bytes}, fed ${feed}), spilling with a tiny buffer`, async () => {
      const rnd = prng(R);
      const lines = mapOutput(rnd, 1500);
      const { sorter, parts, order } = await runSorter(
        { numPartitions: R, bufferBytes: 1024, spillDir: dir, countRepeats, bytes },
        lines,
        rnd,
        feed,
      );
      expect(order).toEqual(Array.from({ length: R }, (_, i) => i));
      expect(sorter.stats.spills).toBeGreaterThan(10);
      expect(sorter.stats.spilledRecords).toBeGreaterThan(0);
      expect(sorter.stats.combineInputRecords).toBe(0);
      expect(parts.flat().sort()).toEqual([...lines].sort());
      expectSortedAndPartitioned(parts, R);
      expect((await readdir(dir)).length).toBe(sorter.stats.spills);
      await sorter.cleanup();
      expect(await readdir(dir)).toEqual([]);
    });
  }

  for (const R of [1, 3]) {
    it(`writes the counted form while repeats pay, spills included, and its expansion is the plain sort's bytes (R=${R})`, async () => {
      const rnd = prng(40 + R);
      // A word count's output: few distinct lines, each many times (bytes below tab included).
      const words = ['the', 'a', 'caf\xe9', 'x\x01y', '', 'b\r', ...Array.from({ length: 30 }, (_, i) => `w${i}`)];
      const lines = Array.from({ length: 30000 }, () => `${words[Math.floor(rnd() ** 4 * words.length)]!}\t${rnd() < 0.9 ? 1 : 2}`);
      const opts = { numPartitions: R, bufferBytes: 2048, spillDir: dir, bytes: true };
      const counted = await runSorter({ ...opts, countRepeats: true }, lines, prng(1), 'bytes');
      expect(counted.sorter.outputIsCounted).toBe(true);
      expect(counted.sorter.stats.spills).toBeGreaterThan(2);
      // The same counting sorter writing every copy (the form before the counted one).
      const plain = await runSorter({ ...opts, countRepeats: true, countedForm: false }, lines, prng(1), 'bytes');
      expect(plain.sorter.outputIsCounted).toBe(false);
      expect(counted.sorter.stats).toEqual(plain.sorter.stats);
      expect(counted.bytes.map((b) => b.toString('latin1'))).toEqual(plain.bytes.map((b) => b.toString('latin1')));
      expect(counted.parts.flat().sort()).toEqual([...lines].sort());
      await counted.sorter.cleanup();
      await plain.sorter.cleanup();
    });
  }

  it('keeps everything in memory when the buffer is large', async () => {
    const rnd = prng(5);
    const lines = mapOutput(rnd, 3000);
    const { sorter, parts } = await runSorter({ numPartitions: 2, bufferBytes: 1 << 26, spillDir: dir }, lines, rnd);
    expect(sorter.stats.spills).toBe(0);
    expect(parts.flat().sort()).toEqual([...lines].sort());
    expectSortedAndPartitioned(parts, 2);
  });

  const asyncSum: GroupCombiner = async (k, v) => sumCombiner(k, v);
  for (const countRepeats of [true, false]) {
    for (const [name, fn, bufferBytes] of [
      ['sync', sumCombiner, 2048],
      ['async', asyncSum, 2048],
      ['sync', sumCombiner, 1 << 26],
    ] as const) {
      it(`with a ${name} group combiner (counting ${countRepeats}, buffer ${bufferBytes}) keeps the sums`, async () => {
        const rnd = prng(bufferBytes);
        const lines = mapOutput(rnd, 2500);
        const opts: SortOptions = {
          numPartitions: 3,
          bufferBytes,
          spillDir: dir,
          combiner: { kind: 'group', fn },
          countRepeats,
        };
        const { sorter, parts } = await runSorter(opts, lines, rnd);
        expectSortedAndPartitioned(parts, 3);
        expect(sums(parts.flat())).toEqual(sums(lines));
        expect(sorter.stats.combineInputRecords).toBeGreaterThan(sorter.stats.combineOutputRecords);
        if (bufferBytes === 2048) expect(sorter.stats.spills).toBeGreaterThan(0);
        else {
          // Fully combined in memory: one line per distinct key.
          expect(parts.flat().length).toBe(sums(lines).size);
          expect(sorter.stats.spills).toBe(0);
        }
        await sorter.cleanup();
        expect(await readdir(dir)).toEqual([]);
      });
    }
  }

  for (const feed of ['lines', 'bytes'] as const)
  it(`with a stream combiner combines spills and the final merge (fed ${feed})`, async () => {
    const rnd = prng(9);
    const lines = mapOutput(rnd, 3000);
    const opts: SortOptions = {
      numPartitions: 2,
      bufferBytes: 2048,
      spillDir: dir,
      combiner: { kind: 'stream', fn: streamSum },
      bytes: true, // the byte buffer (or counter), its lines decoded for the combiner
    };
    const { sorter, parts } = await runSorter(opts, lines, rnd, feed);
    expect(sorter.stats.spills).toBeGreaterThan(0);
    expectSortedAndPartitioned(parts, 2);
    expect(sums(parts.flat())).toEqual(sums(lines));
    expect(parts.flat().length).toBe(sums(lines).size);
    expect(sorter.stats.combineOutputRecords).toBeLessThan(sorter.stats.combineInputRecords);
    await sorter.cleanup();
    expect(await readdir(dir)).toEqual([]);
  });

  for (const countRepeats of [true, false]) {
    it(`handles a combiner that does not shrink its input, and one that drops keys (counting ${countRepeats})`, async () => {
      const rnd = prng(13);
      const lines = mapOutput(rnd, 2500);
      const identity: GroupCombiner = (k, vs) => vs.map((v) => `${k}\t${v}`);
      const base = { numPartitions: 2, spillDir: dir, countRepeats };
      const r1 = await runSorter({ ...base, bufferBytes: 4096, combiner: { kind: 'group', fn: identity } }, lines, rnd);
      expect(sums(r1.parts.flat())).toEqual(sums(lines));
      expect(r1.parts.flat().length).toBe(lines.length);
      const dropAll: GroupCombiner = () => [];
      const r2opts: SortOptions = { ...base, bufferBytes: 1 << 20, combiner: { kind: 'group', fn: dropAll } };
      const r2 = await runSorter(r2opts, lines, rnd);
      // Lines that never met the combiner (a key's leftovers) survive untouched; nothing else.
      const input = new Set(lines);
      expect(r2.parts.flat().filter((l) => !input.has(l))).toEqual([]);
      expect(r2.parts.flat().length).toBeLessThan(lines.length / 4);
      expect(r2.sorter.stats.combineOutputRecords).toBe(0);
      await r1.sorter.cleanup();
    });
  }

  it('fails when a group combiner changes the key', async () => {
    const sorter = new ExternalSorter({
      numPartitions: 1,
      bufferBytes: 1 << 20,
      spillDir: dir,
      combiner: { kind: 'group', fn: (k) => [`${k}x\t1`] },
    });
    await sorter.add(['a\t1', 'a\t2']);
    await expect(
      sorter.finish(async (_p, s) => {
        for await (const _ of s);
      }),
    ).rejects.toThrow(/changed key/);
  });

  it('calls write for every partition even with no input', async () => {
    const sorter = new ExternalSorter({ numPartitions: 4, bufferBytes: 1024, spillDir: dir });
    const seen: [number, number][] = [];
    await sorter.finish(async (p, sorted) => {
      let n = 0;
      for await (const b of sorted) n += linesIn(b).length;
      seen.push([p, n]);
    });
    expect(seen).toEqual([
      [0, 0],
      [1, 0],
      [2, 0],
      [3, 0],
    ]);
    expect(() => sorter.add(['x'])).toThrow(/after finish/);
  });

  it('keeps lines with bytes below tab in key order', async () => {
    const { parts } = await runSorter(
      { numPartitions: 1, bufferBytes: 64, spillDir: dir },
      ['a\x01', 'a\tz', 'a', '\x00'],
      prng(1),
    );
    expect(parts[0]!.map(keyOf)).toEqual(['\x00', 'a', 'a', 'a\x01']);
  });
});
