import { describe, expect, it } from 'vitest';
import {
  chunked,
  detach,
  encodeLines,
  hasKey,
  keyOf,
  LineSplitter,
  readLineBatches,
  splitKeyValue,
  valueAfterKey,
} from './records.js';
import { mulberry32 as prng } from './prng.js';

/** Reference: the records of a byte buffer, as `split('\n')` minus the empty tail. */
function referenceLines(bytes: Buffer): string[] {
  const lines = bytes.toString('latin1').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function splitAll(bytes: Buffer, cuts: number[]): string[] {
  const s = new LineSplitter();
  const out: string[] = [];
  let prev = 0;
  for (const c of [...cuts, bytes.length]) {
    out.push(...s.push(bytes.subarray(prev, c)));
    prev = c;
  }
  out.push(...s.end());
  return out;
}

describe('keys and values', () => {
  it('splits at the first tab; no tab means all key', () => {
    expect(keyOf('a\tb\tc')).toBe('a');
    expect(keyOf('abc')).toBe('abc');
    expect(keyOf('\tv')).toBe('');
    expect(splitKeyValue('a\tb\tc')).toEqual(['a', 'b\tc']);
    expect(splitKeyValue('abc')).toEqual(['abc', '']);
    expect(splitKeyValue('abc\t')).toEqual(['abc', '']);
    expect(splitKeyValue('k\tv\r')).toEqual(['k', 'v\r']);
    expect(valueAfterKey('k\tv', 1)).toBe('v');
    expect(valueAfterKey('k', 1)).toBe('');
  });

  it('hasKey matches exactly the key, not a prefix of it', () => {
    expect(hasKey('ab\tx', 'ab')).toBe(true);
    expect(hasKey('ab', 'ab')).toBe(true);
    expect(hasKey('abc\tx', 'ab')).toBe(false);
    expect(hasKey('a\tx', 'ab')).toBe(false);
    expect(hasKey('\tx', '')).toBe(true);
    expect(hasKey('x', '')).toBe(false);
  });

  it('detach returns an equal string', () => {
    const parent = `${'x'.repeat(1000)}hello world, this is long`;
    const view = parent.slice(1000);
    expect(detach(view)).toBe(view);
    expect(detach('short')).toBe('short');
  });
});

describe('LineSplitter', () => {
  it('handles the record edge cases', () => {
    const b = (s: string) => Buffer.from(s, 'latin1');
    expect(splitAll(b('a\nb\n'), [])).toEqual(['a', 'b']);
    expect(splitAll(b('a\nb'), [])).toEqual(['a', 'b']);
    expect(splitAll(b('a\n\nb\n'), [])).toEqual(['a', '', 'b']);
    expect(splitAll(b('\n'), [])).toEqual(['']);
    expect(splitAll(b(''), [])).toEqual([]);
    expect(splitAll(b('a\r\nb\r\n'), [2])).toEqual(['a\r', 'b\r']);
    expect(splitAll(b('abc\ndef'), [1, 2, 3, 4, 5])).toEqual(['abc', 'def']);
  });

  it('matches a reference on random bytes cut at random places', () => {
    const rnd = prng(42);
    const alphabet = [10, 10, 13, 9, 0, 0x41, 0x62, 0xe9, 0xff, 0x80, 0x20];
    for (let round = 0; round < 200; round++) {
      const len = Math.floor(rnd() * 300);
      const bytes = Buffer.alloc(len);
      for (let i = 0; i < len; i++) bytes[i] = alphabet[Math.floor(rnd() * alphabet.length)]!;
      const cuts: number[] = [];
      for (let p = 0; p < len; p += 1 + Math.floor(rnd() * 20)) cuts.push(p);
      const lines = splitAll(bytes, cuts);
      expect(lines).toEqual(referenceLines(bytes));
      // Writing the lines back with latin1 gives the same bytes (plus a final '\n').
      const expected = len > 0 && bytes[len - 1] !== 10 ? Buffer.concat([bytes, Buffer.from('\n')]) : bytes;
      expect(encodeLines(lines).equals(expected)).toBe(true);
    }
  });

  it('assembles a line longer than many chunks', () => {
    const long = 'z'.repeat(3 * 1024 * 1024 + 7);
    const bytes = Buffer.from(`a\n${long}\nb`, 'latin1');
    const cuts: number[] = [];
    for (let p = 1; p < bytes.length; p += 65536) cuts.push(p);
    expect(splitAll(bytes, cuts)).toEqual(['a', long, 'b']);
  });
});

describe('readLineBatches and encodeLines', () => {
  it('reads Buffer and Uint8Array chunks into batches', async () => {
    async function* source(): AsyncIterable<Buffer | Uint8Array> {
      yield new Uint8Array([0x61, 0x0a, 0x62]);
      yield Buffer.from('c\n\xe9\xff', 'latin1');
    }
    const batches: string[][] = [];
    for await (const b of readLineBatches(source())) batches.push(b);
    expect(batches).toEqual([['a'], ['bc'], ['\xe9\xff']]);
  });

  it('encodes an empty batch as no bytes', () => {
    expect(encodeLines([]).length).toBe(0);
    expect(encodeLines(['']).toString('latin1')).toBe('\n');
    expect(encodeLines(['a\tb', '\xff']).equals(Buffer.from([0x61, 9, 0x62, 10, 0xff, 10]))).toBe(true);
  });

  it('chunks arrays', () => {
    expect([...chunked([1, 2, 3, 4, 5], 2)]).toEqual([[1, 2], [3, 4], [5]]);
  });
});
