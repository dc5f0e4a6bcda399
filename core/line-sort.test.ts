import { describe, expect, it } from 'vitest';
import { sortByKey, sortOrderByKey, wholeLineOrderIsKeyOrder } from './line-sort.js';
import { keyOf } from './records.js';
import { mulberry32 as prng } from './prng.js';

describe('sortByKey', () => {
  const keyBytes = (l: string) => Buffer.from(keyOf(l), 'latin1');
  /** Checks key order against Buffer.compare (like LC_ALL=C sort on the key) and that no line was lost. */
  function checkSorted(input: string[], sorted: string[]): void {
    expect(sorted.length).toBe(input.length);
    let bad = 0;
    for (let i = 1; i < sorted.length; i++)
      if (Buffer.compare(keyBytes(sorted[i - 1]!), keyBytes(sorted[i]!)) > 0) bad++;
    expect(bad).toBe(0);
    expect([...sorted].sort().join('\n') === [...input].sort().join('\n')).toBe(true);
  }

  function randomLines(rnd: () => number, n: number, chars: string[]): string[] {
    return Array.from({ length: n }, () => {
      let key = '';
      const len = Math.floor(rnd() * 9);
      for (let i = 0; i < len; i++) key += chars[Math.floor(rnd() * chars.length)];
      return rnd() < 0.3 ? key : `${key}\t${Math.floor(rnd() * 100)}`;
    });
  }

  it('sorts small and large (radix) inputs by key bytes', () => {
    const rnd = prng(5);
    const chars = ['a', 'b', 'ab', '\xe9', '\xff', '\x80', ' ', '\r', 'zzzzzz'];
    for (const n of [0, 1, 10, 3000, 20_000]) {
      const lines = randomLines(rnd, n, chars);
      expect(wholeLineOrderIsKeyOrder(lines)).toBe(true);
      checkSorted(lines, sortByKey([...lines]));
      // A shared 6-byte prefix leaves all the ordering to the refinement step.
      const prefixed = lines.map((l) => `common${l}`);
      checkSorted(prefixed, sortByKey([...prefixed]));
    }
  });

  it('sorts by key when keys hold bytes below tab', () => {
    const rnd = prng(6);
    const lines = randomLines(rnd, 10_000, ['a', '\x00', '\x01', '\x08', 'b']);
    expect(wholeLineOrderIsKeyOrder(lines)).toBe(false);
    expect(wholeLineOrderIsKeyOrder(['a\tb\x00'])).toBe(true);
    checkSorted(lines, sortByKey([...lines]));
    expect(sortByKey(['a\x01', 'a\tz', 'a']).map(keyOf)).toEqual(['a', 'a', 'a\x01']);
  });

  it('falls back to the native sort for strings that are not latin1', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `\u0100${i}` : `a${i}`));
    const sorted = sortByKey([...lines]);
    expect(sorted).toEqual([...lines].sort());
  });

  it('sortOrderByKey: the order of the same sort as indexes, on every path (radix, small, keys below tab, not latin1)', () => {
    const rnd = prng(7);
    const byOrder = (lines: string[], order: Uint32Array) => Array.from(order, (i) => lines[i]!);
    for (const n of [0, 1, 10, 3000, 20_000]) {
      const lines = randomLines(rnd, n, ['a', 'b', 'ab', '\xe9', '\xff', ' ', 'zzzzzz']);
      for (const input of [lines, lines.map((l) => `common${l}`)]) {
        const order = sortOrderByKey(input);
        expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        checkSorted(input, byOrder(input, order));
      }
    }
    const unsafe = randomLines(rnd, 10_000, ['a', '\x00', '\x01', 'b']);
    checkSorted(unsafe, byOrder(unsafe, sortOrderByKey(unsafe)));
    const wide = Array.from({ length: 5000 }, (_, i) => (i % 2 ? `\u0100${i}` : `a${i}`));
    expect(byOrder(wide, sortOrderByKey(wide))).toEqual([...wide].sort());
  });
});
