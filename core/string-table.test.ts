import { describe, expect, it } from 'vitest';
import { StringTable } from './string-table.js';

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
});
