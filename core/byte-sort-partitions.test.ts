import { describe, expect, it } from 'vitest';
import { prefixDigit } from './byte-sort.js';
import { newDigits } from './byte-sort-storage.js';
import { GROW_AT_MOST, indexCapacity, keyPrefixDigits, PREFIX_BYTES, recordsByPartition } from './byte-sort-partitions.js';

describe('recordsByPartition', () => {
  it('groups record indexes by partition, each group in arrival order', () => {
    const part = Uint32Array.from([2, 0, 2, 1, 0, 2, 9]);
    const { offsets, byPart } = recordsByPartition(part, 6, 3); // the 7th entry is past n
    expect([...offsets]).toEqual([0, 2, 3, 6]);
    expect([...byPart]).toEqual([1, 4, 3, 0, 2, 5]);
  });

  it('gives empty groups for partitions without records', () => {
    const { offsets, byPart } = recordsByPartition(Uint32Array.from([3, 3]), 2, 5);
    expect([...offsets]).toEqual([0, 0, 0, 0, 2, 2]);
    expect([...byPart]).toEqual([0, 1]);
  });
});

describe('keyPrefixDigits', () => {
  it('takes the digits of a key shorter than the prefix from the key alone (0s past its end), leaving the others', () => {
    const lines = ['ab\x01\tzzzz', 'abcdefgh\tv', 'abc'];
    const arena = Buffer.from(lines.join('\n') + '\n', 'latin1');
    const start = new Uint32Array(3);
    const len = new Uint32Array(3);
    const keyLen = new Uint32Array(3);
    const digits = newDigits(3);
    let at = 0;
    lines.forEach((l, i) => {
      start[i] = at;
      len[i] = l.length;
      keyLen[i] = l.includes('\t') ? l.indexOf('\t') : l.length;
      // As the buffer takes them: from the whole line.
      for (let d = 0; d < 3; d++) digits[d]![i] = prefixDigit(arena, at + 2 * d, at + l.length);
      at += l.length + 1;
    });
    const before = digits.map((d) => [...d]);
    keyPrefixDigits(arena, start, len, keyLen, digits, 3);
    // Record 0: key 'ab\x01' (3 bytes): 'ab', '\x01' then 0, then 0 0.
    expect(digits.map((d) => d[0])).toEqual([(0x61 << 8) | 0x62, 0x01 << 8, 0]);
    expect(before.map((d) => d[0])).not.toEqual(digits.map((d) => d[0]));
    // Record 1 (a key of PREFIX_BYTES or more) and record 2 (the whole line is the key) are unchanged.
    expect(keyLen[1]).toBeGreaterThanOrEqual(PREFIX_BYTES);
    expect(digits.map((d) => [d[1], d[2]])).toEqual(before.map((d) => [d[1], d[2]]));
  });
});

describe('indexCapacity', () => {
  it('estimates the fill from the records so far, scaled by bytes to the limit', () => {
    // 1,000 records of 100 bytes so far, a 1 MB limit: ~10,486 records in all, 10 % over.
    expect(indexCapacity(1_000, 100_000, 1_048_576, 32)).toBe(Math.min(Math.ceil(10_485.76 * 1.1), 1_000 * GROW_AT_MOST));
  });

  it('grows at least twice and at most GROW_AT_MOST times at once', () => {
    expect(indexCapacity(1_000, 1_000_000, 1_048_576, 32)).toBe(2_000); // nearly full: the estimate is below 2x
    expect(indexCapacity(1_024, 1_024 * 40, 1 << 30, 32)).toBe(1_024 * GROW_AT_MOST);
  });

  it('never asks for more records than the limit allows, nor guesses without a limit', () => {
    // Every record counts at least 33 bytes: a 66,000-byte limit holds at most 2,001.
    expect(indexCapacity(256, 256 * 33, 66_000, 32)).toBe(Math.max(512, Math.min(2_001, 256 * GROW_AT_MOST)));
    expect(indexCapacity(1_024, 50_000, Infinity, 32)).toBe(2_048);
  });
});
