import { describe, expect, it, vi } from 'vitest';
import type { GroupCombiner } from '../core/external-sort.js';
import { MIN_REPEATS, REPEAT_PROBE_RECORDS } from '../core/repeats.js';
import { releaseCharTableSpare, takeCharTableSpare } from '../core/char-table-storage.js';
import { CharTable } from '../core/char-table.js';
import { BATCH_FROM_KEYS, BATCH_KEYS } from './key-batch.js';
import { RepeatAggregator } from './repeat-aggregator.js';

const sum: GroupCombiner = (key, values) => [`${key}\t${values.reduce((s, v) => s + Number(v), 0)}`];

/** Sum of values per key over `key\tvalue` lines. */
function totals(lines: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of lines) {
    const [k, v] = l.split('\t');
    m.set(k!, (m.get(k!) ?? 0) + Number(v));
  }
  return m;
}

function collector() {
  const out: string[] = [];
  return { out, next: (lines: string[]) => void out.push(...lines) };
}

describe('RepeatAggregator', () => {
  it('counts emitted pairs and hands each distinct one on combined, keeping the totals', async () => {
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 20, next);
    const expected = new Map<string, number>();
    for (let i = 0; i < 10_000; i++) {
      const key = `w${i % 37}`;
      const value = i % 5 === 0 ? '2' : '1';
      agg.emit(key, value);
      expected.set(key, (expected.get(key) ?? 0) + Number(value));
    }
    expect(out).toEqual([]);
    await agg.flush();
    expect(totals(out)).toEqual(expected);
    // One line per distinct (key, value): 37 keys × 2 values.
    expect(out.length).toBe(74);
    expect(agg.records).toBe(10_000);
    expect(agg.combineInputRecords).toBe(10_000);
    expect(agg.combineOutputRecords).toBe(74);
    let chars = 0;
    for (let i = 0; i < 10_000; i++) chars += `w${i % 37}\t1`.length;
    expect(agg.chars).toBe(chars);
  });

  it('leaves the storage of a flushed window\'s key table to the next window or attempt', async () => {
    releaseCharTableSpare();
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 24, next);
    for (let i = 0; i < 30_000; i++) agg.emit(`w${i % 3_000}`, '1');
    await agg.flush(true);
    expect(totals(out)).toEqual(new Map(Array.from({ length: 3_000 }, (_, i) => [`w${i}`, 10])));
    // The window's table (3,000 keys: 8,192 buckets) is the spare now.
    expect(takeCharTableSpare(8_192)).toBeDefined();
  });

  it('hands keys on in first-sighting order, each with its first value first, whatever value came first', async () => {
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 20, next);
    // '1' comes first (the common value); 'a' gets another value later, 'b' only another one.
    for (const [k, v] of [['a', '1'], ['b', '2'], ['a', '2'], ['c', '1'], ['a', '1'], ['b', '2'], ['é', '1'], ['c', '1']] as const) agg.emit(k, v);
    await agg.flush();
    expect(out).toEqual(['a\t2', 'a\t2', 'b\t4', 'c\t2', Buffer.from('é\t1', 'utf8').toString('latin1')]);
    expect(agg.combineInputRecords).toBe(6);
    expect(agg.combineOutputRecords).toBe(3);
  });

  it('counts many pairs of one record (looked up in batches) in first-sighting order, and throws at the emit with a newline', async () => {
    const { mulberry32 } = await import('../core/prng.js');
    const rand = mulberry32(3);
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 30, next);
    // The reference: totals per (key, value) in first-sighting order of the key, then of the value.
    const model = new Map<string, Map<string, number>>();
    // More distinct keys than BATCH_FROM_KEYS, each twice (so counting pays and stays on): the
    // pairs of the records below are looked up in batches.
    const keys = Array.from({ length: 80_000 }, (_, i) => (i % 17 === 0 ? `ü${i}` : i % 19 === 0 ? `€${i}` : `k${i}`));
    for (const key of keys) {
      agg.emit(key, '1');
      agg.emit(key, '1');
      model.set(key, new Map([['1', 2]]));
    }
    expect(agg.full).toBe(false);
    for (let record = 0; record < 40; record++) {
      // Up to ~1000 pairs per record (more than a batch), '1' mostly, sometimes another value.
      const n = Math.floor(rand() * 1000);
      for (let j = 0; j < n; j++) {
        const key = keys[Math.floor(rand() * rand() * keys.length)]!;
        const value = rand() < 0.05 ? '7' : '1';
        agg.emit(key, value);
        const m = model.get(key) ?? new Map<string, number>();
        model.set(key, m.set(value, (m.get(value) ?? 0) + Number(value)));
      }
      if (record === 20) {
        agg.emit('before', '1');
        expect(() => agg.emit('a\nb', '1')).toThrow(/newline/);
        model.set('before', new Map([['1', 1]]));
      }
      expect(agg.full).toBe(false);
    }
    await agg.flush();
    const latin1 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    expect(out).toEqual([...model].flatMap(([k, m]) => [...m].map(([, total]) => latin1(`${k}\t${total}`))));
  });

  it('encodes pairs that are not plain ASCII as lines, and rejects a newline', async () => {
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 20, next);
    agg.emit('café', '1');
    agg.emit('café', '1');
    agg.emit('k', '1');
    await agg.flush();
    expect(out.sort()).toEqual([Buffer.from('café\t2', 'utf8').toString('latin1'), 'k\t1']);
    expect(() => agg.emit('a\nb', '1')).toThrow(/newline/);
  });

  it('asks to be flushed when full, and turns itself off when records rarely repeat', async () => {
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 4096, next);
    let i = 0;
    while (!agg.full) agg.emit(`key-${i++}`, '1');
    expect(i).toBeLessThan(100);
    await agg.flush();
    expect(out.length).toBe(i);
    expect(agg.full).toBe(false);
    // Distinct records past the probe: counting stops for the rest of the attempt.
    const big = new RepeatAggregator(sum, 1 << 30, next);
    for (let k = 0; k < REPEAT_PROBE_RECORDS; k++) big.emit(`d${k}`, '1');
    expect(big.full).toBe(true);
    await big.flush();
    big.emit('x', '1');
    big.emit('x', '1');
    await big.flush();
    expect(out.slice(-2)).toEqual(['x\t1', 'x\t1']);
  });

  it('counts non-ASCII pairs as text and hands on the same latin1 lines as encoding each record', async () => {
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 20, next);
    const utf8 = (s: string) => Buffer.from(s, 'utf8').toString('latin1');
    const pairs: Array<[string, string]> = [
      ['naïve', '1'],
      ['naïve', '1'],
      ['naïve', '2'],
      ['中文', '1'],
      ['k', '1'],
      ['k', 'ü'], // a plain key whose later value is not ASCII
      ['k', '1'],
      ['😀', '1'], // a surrogate pair: 4 UTF-8 bytes
      ['😀', '1'],
      ['\ud800', '1'], // a lone surrogate: encoded as U+FFFD, like Buffer.from does
    ];
    for (const [k, v] of pairs) agg.emit(k, v);
    await agg.flush();
    expect(out.sort()).toEqual(
      // Identical records are combined: naïve\t1 twice, naïve\t2 once.
      ['naïve\t2', 'naïve\t2', '中文\t1', 'k\t2', 'k\tü', '😀\t2', '\ud800\t1'].map((l) => Buffer.from(l, 'utf8').toString('latin1')).sort(),
    );
    expect(agg.records).toBe(pairs.length);
    expect(agg.chars).toBe(pairs.reduce((n, [k, v]) => n + utf8(`${k}\t${v}`).length, 0));
    expect(() => agg.emit('é\nb', '1')).toThrow(/newline/);
    expect(() => agg.emit('é', 'a\nb')).toThrow(/newline/);
  });

  it('tells the combiner a group is ASCII only when its key and every value were checked plain', async () => {
    const { out, next } = collector();
    const calls: Array<[string, boolean | undefined]> = [];
    const spy: GroupCombiner = (key, values, ascii) => {
      calls.push([key, ascii]);
      return sum(key, values);
    };
    const agg = new RepeatAggregator(spy, 1 << 20, next);
    for (const [k, v] of [
      ['plain', '1'], ['plain', '1'], // the common value: known ASCII
      ['two', '2'], ['two', '2'], ['two', '1'], ['two', '1'], // other plain values too
      ['mixed', '1'], ['mixed', 'ü'], ['mixed', 'ü'], ['mixed', '1'], // a plain key with a later non-ASCII value
      ['naïve', '1'], ['naïve', '1'], // a non-ASCII key
    ] as const) agg.emit(k, v);
    await agg.add(['line\t1', 'line\t1']); // an executable's lines: not checked
    await agg.flush();
    const asciiOf = (key: string) => [...new Set(calls.filter(([k]) => k === key).map(([, a]) => a === true))];
    expect(asciiOf('plain')).toEqual([true]);
    expect(asciiOf('two')).toEqual([true]);
    expect(asciiOf('mixed')).toEqual([false]);
    expect(asciiOf(Buffer.from('naïve', 'utf8').toString('latin1'))).toEqual([false]);
    expect(asciiOf('line')).toEqual([false]);
    expect(totals(out).get('plain')).toBe(2);
  });

  it('counts executable output lines, passing lines without a tab on as they are', async () => {
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 20, next);
    await agg.add(['a\t1', 'a\t1', 'a\t1', 'bare', 'bare', 'b\t5']);
    await agg.flush();
    expect(out.sort()).toEqual(['a\t3', 'b\t5', 'bare', 'bare']);
    expect(agg.chars).toBe(3 * 3 + 2 * 4 + 3);
  });

  it('looks keys up in full batches across records of a few pairs each, and still tells `full` exactly', async () => {
    const { out, next } = collector();
    const agg = new RepeatAggregator(sum, 1 << 30, next);
    const keys = Array.from({ length: BATCH_FROM_KEYS + 5000 }, (_, i) => `k${i}`);
    // Each key 3 times: well inside the repeat policy, so no batch could make it full.
    for (let k = 0; k < 3; k++) for (const key of keys) agg.emit(key, '1');
    expect(agg.full).toBe(false);
    await agg.flush();
    for (let k = 0; k < 3; k++) for (const key of keys) agg.emit(key, '1');
    expect(agg.full).toBe(false);
    agg.emit('k0', '7'); // counted at once, after the batched pairs before it: the batch starts empty
    const touch = vi.spyOn(CharTable.prototype, 'touch');
    try {
      // Records of 10 pairs, `full` asked after each (as a module step does): every lookup batch is full.
      for (let r = 0; r < 64; r++) {
        for (let j = 0; j < 10; j++) agg.emit(keys[(r * 7919 + j * 104_729) % keys.length]!, '1');
        expect(agg.full).toBe(false);
      }
      const sizes = touch.mock.calls.map((c) => c[1]);
      expect(sizes.length).toBe(Math.floor(640 / BATCH_KEYS));
      expect(sizes.every((n) => n === BATCH_KEYS)).toBe(true);
    } finally {
      touch.mockRestore();
    }
    await agg.flush();
    expect(out.reduce((s, l) => s + Number(l.split('\t')[1]), 0)).toBe(6 * keys.length + 7 + 640);
    // A batch that could make it full is counted first: a small limit is told at once.
    const small = new RepeatAggregator(sum, 1 << 30, next);
    for (const key of keys) small.emit(key, '1');
    for (let i = 0; i < 10; i++) small.emit(`new${i}`, '1');
    // 65,536 + 5,010 distinct in 70,546 records: counting no longer pays, whatever is still batched.
    expect(small.full).toBe(true);
  });

  it('falls back to combining in pieces when the combiner does not give one line per call', async () => {
    const { out, next } = collector();
    const twoLines: GroupCombiner = (key, values) => [`${key}\t${values.length}`, `${key}\t0`];
    const agg = new RepeatAggregator(twoLines, 1 << 20, next);
    for (let i = 0; i < 5; i++) agg.emit('k', '1');
    await agg.flush();
    expect(out).toEqual(['k\t5', 'k\t0']);
  });

  it('follows the shared repeat policy (core/repeats.ts), like the sort buffer', async () => {
    const n = REPEAT_PROBE_RECORDS * 2;
    for (const [distinct, counting] of [
      [n / MIN_REPEATS, true],
      [n / MIN_REPEATS + 1, false],
    ] as const) {
      const { out, next } = collector();
      const agg = new RepeatAggregator(sum, 1 << 30, next);
      for (let i = 0; i < n; i++) agg.emit(`k${i % distinct}`, '1');
      expect(agg.full).toBe(!counting);
      await agg.flush();
      // Counting on: the next records are held (counted); off: they are handed on as they come.
      const before = out.length;
      agg.emit('x', '1');
      await agg.add(['y\t1']);
      expect(out.length - before).toBe(counting ? 0 : 1);
    }
  });
});


describe('RepeatAggregator with a byte stage (nextBytes)', () => {
  /** The line strings and the byte blocks handed on, as one sequence of lines (blocks copied as they come). */
  function both() {
    const out: string[] = [];
    let blocks = 0;
    return {
      out,
      blocks: () => blocks,
      next: (lines: string[]) => void out.push(...lines),
      nextBytes: async (block: Buffer) => {
        blocks++;
        expect(block[block.length - 1]).toBe(0x0a);
        out.push(...block.toString('latin1').slice(0, -1).split('\n'));
        await Promise.resolve();
        block.fill(0x21); // the block may be reused once its promise resolved
      },
    };
  }

  it('hands on the same lines in the same order as the string path (random pairs and lines, plain, counted, non-ASCII, long, async combiner)', async () => {
    const { mulberry32 } = await import('../core/prng.js');
    for (let seed = 1; seed <= 25; seed++) {
      const rand = mulberry32(seed);
      const vocab = [3, 200, 50_000][seed % 3]!;
      const ops: Array<[string, string] | string[]> = [];
      // A key longer than the stage's buffer (256 KiB) now and then.
      if (seed % 5 === 0) ops.push([`huge${'h'.repeat(300_000)}`, '1']);
      for (let i = 0, n = 1 + Math.floor(rand() * 10_000); i < n; i++) {
        const w = Math.floor(rand() ** 2 * vocab);
        let key = `w${w}`;
        if (w % 9 === 4) key = `ü${w}€`;
        if (w % 17 === 2) key = `${'long'.repeat(100 + (w % 300))}${w}`;
        const value = rand() < 0.8 ? '1' : rand() < 0.5 ? '2' : 'ß';
        if (rand() < 0.02) ops.push([`line${w % 5}\t1`, `x${w}`]);
        else ops.push([key, value]);
      }
      const combine: GroupCombiner =
        seed % 2 === 0
          ? sum
          : async (key, values) => [`${key}\t${values.filter((v) => v !== 'ß').reduce((s, v) => s + Number(v), 0)}`];
      const run = async (bytes: boolean) => {
        const sink = both();
        const agg = new RepeatAggregator(combine, 1 << 20, sink.next, bytes ? sink.nextBytes : undefined);
        for (const op of ops) {
          // Pairs are emitted; the `line…` batches come as an executable's lines (`add`).
          if (!op[0]!.startsWith('line')) agg.emit(op[0]!, op[1]!);
          else {
            const p = agg.add(op as string[]);
            if (p) await p;
          }
          if (agg.full) await agg.flush();
        }
        await agg.flush();
        return { out: sink.out, blocks: sink.blocks(), records: agg.records, chars: agg.chars, cin: agg.combineInputRecords, cout: agg.combineOutputRecords };
      };
      const strings = await run(false);
      const bytes = await run(true);
      expect(strings.blocks).toBe(0);
      expect(bytes.blocks).toBeGreaterThan(0);
      expect(bytes).toEqual({ ...strings, blocks: bytes.blocks });
    }
  });
});
