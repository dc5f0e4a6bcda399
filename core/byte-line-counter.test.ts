import { describe, expect, it } from 'vitest';
import { linesOf } from './byte-merge.js';
import { ByteLineCounter } from './byte-line-counter.js';
import { countedLineEnd, countOf, MAX_RECORD_COUNT } from './counted-lines.js';
import type { ByteLines } from './byte-sort-buffer.js';
import { mulberry32 as prng } from './prng.js';
import { encodeLines } from './records.js';
import { EARLY_JUDGE_RECORDS, REPEAT_PROBE_RECORDS } from './repeats.js';
import { SortBuffer } from './sort-buffer.js';

/**
 * Map output that repeats: `vocab` random lines (any byte but '\n', bytes below '\t' when
 * `unsafe`; keys alone, empty lines, several tabs), picked with a heavy head like word counts.
 */
function repeatingLines(rnd: () => number, n: number, vocab: number, unsafe: boolean): string[] {
  const byte = () => {
    for (;;) {
      const c = Math.floor(rnd() * 256);
      if (c === 10 || (!unsafe && c < 9)) continue;
      return String.fromCharCode(c);
    }
  };
  const words = ['', 'the\t1', 'the', 'a\t1', 'caf\xe9\t1', '\xff\t\t1'];
  while (words.length < vocab) {
    const k = Array.from({ length: Math.floor(rnd() * 9) }, () => (rnd() < 0.6 ? 'ab'[Math.floor(rnd() * 2)]! : byte())).join('');
    words.push(rnd() < 0.8 ? `${k}\t1` : k);
  }
  return Array.from({ length: n }, () => words[Math.floor(rnd() ** 3 * words.length)]!);
}

/** The lines in blocks of whole lines of random sizes. */
function blocksOf(rnd: () => number, lines: string[]): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; ) {
    const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 4 : 3000));
    out.push(encodeLines(lines.slice(i, i + n)));
    i += n;
  }
  return out;
}

async function drain(streams: AsyncIterable<string[] | ByteLines>[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const s of streams) {
    const lines: string[] = [];
    for await (const b of s) {
      if (Array.isArray(b)) lines.push(...b);
      else {
        const ls = linesOf(b.bytes);
        expect(b.lines).toBe(ls.length);
        lines.push(...ls);
      }
    }
    out.push(lines);
  }
  return out;
}

describe('ByteLineCounter', () => {
  for (const R of [1, 3]) {
    for (const unsafe of [false, true]) {
      for (const [n, vocab] of [
        [40, 10],
        [30_000, 400],
      ] as const) {
        it(`gives the counting SortBuffer's partitions and order exactly (R = ${R}, ${unsafe ? 'keys with bytes below tab' : 'safe keys'}, ${n} lines)`, async () => {
          const rnd = prng(R * 1000 + n + (unsafe ? 7 : 0));
          const lines = repeatingLines(rnd, n, vocab, unsafe);
          const strings = new SortBuffer({ numPartitions: R });
          expect(strings.add(lines, 0, Infinity)).toBe(lines.length);
          expect(strings.counting).toBe(true);
          const counter = new ByteLineCounter(R);
          for (const block of blocksOf(rnd, lines)) expect(counter.add(block, 0, Infinity)).toBe(block.length);
          expect(counter.counting).toBe(true);
          const want = await drain(strings.take());
          const got = await drain(counter.take({ reuseBlocks: rnd() < 0.5 }));
          expect(got.map((p) => p.length)).toEqual(want.map((p) => p.length));
          expect(got).toEqual(want);
          expect(counter.isEmpty).toBe(true);
        });
      }
    }
  }

  for (const unsafe of [false, true]) {
    it(`routes by total-order split points as the counting SortBuffer does (${unsafe ? 'keys with bytes below tab' : 'safe keys'})`, async () => {
      const rnd = prng(unsafe ? 41 : 40);
      const lines = repeatingLines(rnd, 20_000, 300, unsafe);
      // Split points drawn from the keys themselves (so keys equal to a point occur), sorted as latin1.
      const keys = [...new Set(lines.map((l) => l.split('\t')[0]!))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const points = [keys[Math.floor(keys.length / 4)]!, keys[Math.floor(keys.length / 2)]!, `${keys[Math.floor((3 * keys.length) / 4)]!}\x00`];
      const strings = new SortBuffer({ numPartitions: 4, splitPoints: points });
      expect(strings.add(lines, 0, Infinity)).toBe(lines.length);
      const counter = new ByteLineCounter(4, points);
      for (const block of blocksOf(rnd, lines)) expect(counter.add(block, 0, Infinity)).toBe(block.length);
      const want = await drain(strings.take());
      const got = await drain(counter.take({ reuseBlocks: rnd() < 0.5 }));
      expect(want.filter((p) => p.length > 0).length).toBeGreaterThan(2);
      expect(got).toEqual(want);
    });
  }

  it('stops at the limit on a line boundary, and counts the rest afresh after a take', async () => {
    const rnd = prng(3);
    const lines = repeatingLines(rnd, 20_000, 3000, false);
    const block = encodeLines(lines);
    const counter = new ByteLineCounter(2);
    const all: string[] = [];
    let from = 0;
    let takes = 0;
    while (from < block.length) {
      const next = counter.add(block, from, 20_000);
      expect(next === block.length || block[next - 1] === 10).toBe(true);
      expect(next).toBeGreaterThan(from);
      from = next;
      for (const p of await drain(counter.take())) all.push(...p);
      takes++;
    }
    expect(takes).toBeGreaterThan(3);
    expect(all.sort()).toEqual([...lines].sort());
  });

  it('writes a line counted a million times, and lines longer than an output block', async () => {
    const long = `k\t${'x'.repeat(700 * 1024)}`;
    const counter = new ByteLineCounter(1);
    const word = encodeLines(Array.from({ length: 1000 }, () => 'the\t1'));
    for (let i = 0; i < 1000; i++) counter.add(word, 0, Infinity);
    counter.add(encodeLines([long, 'b\t1', long]), 0, Infinity);
    const [part] = await drain(counter.take());
    expect(part!.length).toBe(1_000_003);
    expect(part!.slice(0, 3)).toEqual(['b\t1', long, long]);
    expect(part!.slice(3).every((l) => l === 'the\t1')).toBe(true);
  });

  it('stops counting when lines rarely repeat, and hands over the counted lines in arrival order', () => {
    // Every fourth line repeats the one before: 75 % distinct, not hopeless early, certain past half the probe.
    const lines = Array.from({ length: REPEAT_PROBE_RECORDS + 10 }, (_, i) => `w${i - Math.floor((i + 1) / 4)}\t1`);
    const block = encodeLines(lines);
    const counter = new ByteLineCounter(2);
    const next = counter.add(block, 0, Infinity);
    expect(counter.counting).toBe(false);
    const taken = linesOf(block.subarray(0, next));
    expect(taken.length).toBeGreaterThan(REPEAT_PROBE_RECORDS / 2);
    const moved = linesOf(counter.expanded());
    const counts = new Map<string, number>();
    for (const l of taken) counts.set(l, (counts.get(l) ?? 0) + 1);
    const firstArrival = [...counts].flatMap(([l, c]) => Array.from({ length: c }, () => l));
    expect(moved).toEqual(firstArrival);
    expect(counter.isEmpty).toBe(true);
  });

  it('judges lines that never repeat hopeless early, between two lines of a block, and hands them over as they came', async () => {
    const lines = Array.from({ length: 10_000 }, (_, i) => `key${i}\tpayload ${i}`);
    const block = encodeLines(lines);
    const counter = new ByteLineCounter(2);
    const next = counter.add(block, 0, Infinity);
    expect(counter.counting).toBe(false);
    // The probe stopped at its first judgment: the rest of the block is the caller's (the byte buffer's).
    expect(next).toBe(encodeLines(lines.slice(0, EARLY_JUDGE_RECORDS)).length);
    expect(counter.linesTaken).toBe(EARLY_JUDGE_RECORDS);
    const moved = counter.expanded();
    const copy = Buffer.from(moved);
    expect(linesOf(moved)).toEqual(lines.slice(0, EARLY_JUDGE_RECORDS));
    expect(counter.isEmpty).toBe(true);
    // The counter goes on (a later window): its new lines must not land in the bytes handed over.
    counter.add(encodeLines(Array.from({ length: 5000 }, (_, i) => `other${i}\t1`)), 0, Infinity);
    expect(moved.equals(copy)).toBe(true);
    const parts = await drain(counter.take());
    expect(parts.flat().sort()).toEqual(Array.from({ length: EARLY_JUDGE_RECORDS }, (_, i) => `other${i}\t1`).sort());
  });

  it('judges the probe at the same line whatever the blocks, and keeps counting lines that repeat enough', () => {
    const distinct = Array.from({ length: 3000 }, (_, i) => `d${i}\t1`);
    const whole = new ByteLineCounter(1);
    const inPieces = new ByteLineCounter(1);
    expect(whole.add(encodeLines(distinct), 0, Infinity)).toBe(encodeLines(distinct.slice(0, EARLY_JUDGE_RECORDS)).length);
    for (let i = 0; i < distinct.length && inPieces.counting; i += 100) inPieces.add(encodeLines(distinct.slice(i, i + 100)), 0, Infinity);
    expect(inPieces.linesTaken).toBe(EARLY_JUDGE_RECORDS);
    // A 20k-word uniform vocabulary repeats ~400 times in 4,096 lines: counted through the probe.
    const rnd = prng(7);
    const words = Array.from({ length: REPEAT_PROBE_RECORDS + 100 }, () => `w${Math.floor(rnd() * 20_000)}\t1`);
    const counter = new ByteLineCounter(1);
    expect(counter.add(encodeLines(words), 0, Infinity)).toBe(encodeLines(words).length);
    expect(counter.counting).toBe(true);
  });

  it('judges a window that ended before the probe was over', async () => {
    const counter = new ByteLineCounter(1);
    counter.add(encodeLines(['a\t1', 'b\t1', 'c\t1']), 0, Infinity);
    expect(counter.counting).toBe(true);
    await drain(counter.take());
    expect(counter.counting).toBe(false);
  });

  it('ends the window when a tally reaches MAX_RECORD_COUNT, and writes that count in one counted record', async () => {
    const counter = new ByteLineCounter(1);
    const line = Buffer.from('k\t1\n');
    expect(counter.add(line, 0, Infinity)).toBe(line.length);
    // 4 G copies cannot be fed in a test: start the tally two short of the bound.
    (counter as unknown as { tally: Uint32Array }).tally[0] = MAX_RECORD_COUNT - 2;
    const three = Buffer.concat([line, line, line]);
    // The second copy fills the tally: the window ends there, as when the buffer is full.
    expect(counter.add(three, 0, Infinity)).toBe(2 * line.length);
    const [part] = counter.take({ counted: true });
    const blocks: Buffer[] = [];
    for await (const b of part!) blocks.push(Buffer.from(b.bytes));
    const bytes = Buffer.concat(blocks);
    const nl = bytes.indexOf(10);
    expect(nl).toBe(bytes.length - 1); // one record
    expect(countOf(bytes, nl)).toBe(MAX_RECORD_COUNT);
    expect(bytes.subarray(0, countedLineEnd(bytes, nl)).toString('latin1')).toBe('k\t1');
    // The copy left over starts the next window with a count of its own.
    expect(counter.add(three, 2 * line.length, Infinity)).toBe(three.length);
    expect(counter.isEmpty).toBe(false);
  });

  it('refuses a block that does not end with a newline', () => {
    expect(() => new ByteLineCounter(1).add(Buffer.from('a\tb'), 0, Infinity)).toThrow(/newline/);
  });
});
