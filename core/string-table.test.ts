import { describe, expect, it } from 'vitest';
import { hashFinish, hashPairStep, hashStart, StringTable } from './string-table.js';

describe('StringTable', () => {
  it('numbers distinct strings in insertion order and finds each again, through several growths', () => {
    const table = new StringTable();
    const words = Array.from({ length: 50_000 }, (_, i) => `w${(i * 7919) % 50_000}\t1`);
    for (let i = 0; i < words.length; i++) expect(table.add(words[i]!)).toBe(i);
    expect(table.size).toBe(words.length);
    expect(table.keys).toEqual(words);
    // Equal strings that are other objects (cut from a bigger string) find the same slot.
    const fresh = words.join('\n').split('\n');
    for (let i = 0; i < fresh.length; i += 97) {
      expect(table.find(fresh[i]!)).toBe(i);
      expect(table.add(fresh[i]!)).toBe(i);
    }
    expect(table.size).toBe(words.length);
    expect(table.find('absent')).toBe(-1);
  });

  it('keeps what `keep` returns for a new string only, and tells empty, latin1 and wide strings apart', () => {
    const table = new StringTable(1);
    const kept: string[] = [];
    const keep = (s: string) => {
      kept.push(s);
      return `${s}\0`.slice(0, -1);
    };
    for (const s of ['', 'a', '\xe9', 'é', '\u20ac', 'a\tb', '', 'a', '\u20ac']) table.add(s, keep);
    expect(kept).toEqual(['', 'a', '\xe9', '\u20ac', 'a\tb']);
    expect(table.keys).toEqual(kept);
    expect(table.find('\u20ac')).toBe(3);
    expect(table.find('a\tc')).toBe(-1);
  });

  it('hashes two chars per step and still spreads keys over the low bits a table masks', () => {
    const hashOf = (s: string) => {
      let h = hashStart(0);
      let j = 0;
      for (; j + 1 < s.length; j += 2) h = hashPairStep(h, s.charCodeAt(j) | (s.charCodeAt(j + 1) << 16));
      if (j < s.length) h = hashPairStep(h, s.charCodeAt(j));
      return hashFinish(h);
    };
    // Every two-char latin1 key into 65,536 buckets, and 65,536 keys `w0`, `w1`, ... into 131,072:
    // a random function fills 1 - 1/e (63 %) and 79 % of them; a poor mix of the second char far fewer.
    const pairs = new Set<number>();
    for (let c = 0; c < 256; c++) for (let d = 0; d < 256; d++) pairs.add(hashOf(String.fromCharCode(c, d)) & 0xffff);
    expect(pairs.size / 65536).toBeGreaterThan(0.6);
    const words = new Set<number>();
    for (let i = 0; i < 65536; i++) words.add(hashOf(`w${i}`) & 0x1ffff);
    expect(words.size / 65536).toBeGreaterThan(0.75);
    // And the table finds what it holds, odd and even lengths alike.
    const t = new StringTable();
    const keys = Array.from({ length: 5000 }, (_, i) => `${'k'.repeat(i % 5)}${i}`);
    keys.forEach((k, i) => expect(t.add(k)).toBe(i));
    keys.forEach((k, i) => expect(t.find(k)).toBe(i));
  });
});

