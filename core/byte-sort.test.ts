import { describe, expect, it } from 'vitest';
import { prefixDigit, releaseSortScratch, sortRecordIndexes, type RecordRanges } from './byte-sort.js';

/** Deterministic xorshift32 in [0, 1). */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/** Records laid out in one buffer (after a 16-byte gap, as the arena's scratch), compared over their whole length. */
function ranges(records: readonly Buffer[], withDigits: boolean): RecordRanges {
  const buf = Buffer.concat([Buffer.alloc(16, 0xee), ...records.flatMap((r) => [r, Buffer.from([0x0a])])]);
  const n = records.length;
  const start = new Uint32Array(n);
  const cmpLen = new Uint32Array(n);
  let p = 16;
  for (let i = 0; i < n; i++) {
    start[i] = p;
    cmpLen[i] = records[i]!.length;
    p += records[i]!.length + 1;
  }
  if (!withDigits) return { buf, start, cmpLen };
  const d = [new Uint16Array(n), new Uint16Array(n), new Uint16Array(n)] as const;
  for (let i = 0; i < n; i++) {
    const s = start[i]!;
    const e = s + cmpLen[i]!;
    for (let k = 0; k < 3; k++) d[k][i] = prefixDigit(buf, s + 2 * k, e);
  }
  return { buf, start, cmpLen, digits: d };
}

/** The order the module promises: unsigned bytes, a prefix before its extensions, equal records by index. */
function reference(records: readonly Buffer[], idx: Uint32Array): number[] {
  return [...idx].sort((a, b) => Buffer.compare(records[a]!, records[b]!) || a - b);
}

function sorted(records: readonly Buffer[], idx: Uint32Array, withDigits: boolean): number[] {
  return [...sortRecordIndexes(ranges(records, withDigits), idx.slice())];
}

const all = (n: number) => Uint32Array.from({ length: n }, (_, i) => i);

/** Shapes of records, each above the radix passes' threshold. */
const shapes: Record<string, (r: () => number, i: number) => Buffer> = {
  // TeraSort's printable 10-byte keys: every digit varies.
  tera: (r) => Buffer.from(Array.from({ length: 10 }, () => 0x20 + Math.floor(r() * 95))),
  // Binary keys: bytes 0x00-0xff, tabs and high bytes, lengths 0-9 (short ones padded by 0 in the prefix).
  binary: (r) => Buffer.from(Array.from({ length: Math.floor(r() * 10) }, () => Math.floor(r() * 256))),
  // A shared first 4 bytes: the first two digit passes are skipped; only the last orders.
  sharedHead: (r) => Buffer.concat([Buffer.from('same'), Buffer.from(Array.from({ length: 1 + Math.floor(r() * 4) }, () => 0x61 + Math.floor(r() * 3)))]),
  // Two letters only: the first 4 bytes take 16 values, so records tie on them but not on bytes 5-6.
  twoLetters: (r) => Buffer.from(Array.from({ length: 3 + Math.floor(r() * 6) }, () => 0x61 + Math.floor(r() * 2))),
  // Equal 6-byte prefixes in long runs, told apart (or not) by the bytes after them.
  equalPrefixes: (r) => Buffer.from(`prefix${'abc'[Math.floor(r() * 3)]!.repeat(Math.floor(r() * 40))}${Math.floor(r() * 50)}`),
  // A prefix and its extensions by 0 bytes: "ab" < "ab\0" < "ab\0\0" though their padded prefixes are equal.
  zeroTails: (r) => Buffer.concat([Buffer.from('ab'), Buffer.alloc(Math.floor(r() * 6))]),
  // Duplicates everywhere: equal records stay in index order.
  duplicates: (r) => Buffer.from(`k${Math.floor(r() * 20)}`),
};

describe('sortRecordIndexes', () => {
  for (const [name, make] of Object.entries(shapes)) {
    for (const withDigits of [true, false]) {
      it(`orders ${name} records as unsigned bytes, ties by index (${withDigits ? 'digits given' : 'digits read'})`, () => {
        const r = rng(name.length * 7919 + (withDigits ? 1 : 2));
        const records = Array.from({ length: 9000 }, (_, i) => make(r, i));
        // One partition's records: every third, as arrival order (increasing indexes).
        const idx = all(records.length).filter((i) => i % 3 !== 1);
        expect(sorted(records, idx, withDigits)).toEqual(reference(records, idx));
      });
    }
  }

  it('sorts partitions of different sizes one after another, and after its kept arrays were let go', () => {
    const r = rng(42);
    const records = Array.from({ length: 40000 }, () => shapes.binary!(r, 0));
    const parts = [all(40000).filter((i) => i % 4 === 0), all(40000).filter((i) => i % 4 === 1).slice(0, 5000), all(40000).filter((i) => i % 4 !== 0)];
    for (const idx of parts) expect(sorted(records, idx, true)).toEqual(reference(records, idx));
    releaseSortScratch();
    for (const idx of parts.reverse()) expect(sorted(records, idx, false)).toEqual(reference(records, idx));
  });

  it('leaves an empty or single-record partition as it is, and sorts one below the radix threshold', () => {
    const records = [Buffer.from('b'), Buffer.from('a'), Buffer.from('c')];
    expect(sorted(records, new Uint32Array(0), true)).toEqual([]);
    expect(sorted(records, Uint32Array.of(1), true)).toEqual([1]);
    expect(sorted(records, all(3), true)).toEqual([1, 0, 2]);
  });

  it('sorts a subarray in place without touching the rest of its array', () => {
    const r = rng(3);
    const records = Array.from({ length: 10000 }, () => shapes.tera!(r, 0));
    const whole = all(10000);
    const part = whole.subarray(2000, 8000);
    const want = reference(records, part);
    sortRecordIndexes(ranges(records, true), part);
    expect([...part]).toEqual(want);
    expect([...whole.subarray(0, 2000)]).toEqual([...all(2000)]);
    expect([...whole.subarray(8000)]).toEqual([...all(10000).subarray(8000)]);
  });
});
