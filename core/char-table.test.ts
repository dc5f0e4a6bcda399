import { describe, expect, it } from 'vitest';
import { CharTable, TOUCH_MAX } from './char-table.js';

/** Every [key, ref] the table holds, walking its entries in order. */
function contents(t: CharTable): Array<[string, number]> {
  const all: Array<[string, number]> = [];
  for (let e = t.nextEntry(-1); e >= 0; e = t.nextEntry(e)) all.push([t.keyOf(e), t.ref(e)]);
  return all;
}

describe('CharTable', () => {
  it('finds each string again through several growths, with its ref, and walks the entries in insertion order', () => {
    const t = new CharTable();
    const words = Array.from({ length: 50_000 }, (_, i) => `w${(i * 7919) % 50_000}`);
    const foundBeforeAdd: number[] = [];
    for (let i = 0; i < words.length; i++) {
      if (t.find(words[i]!) !== -1) foundBeforeAdd.push(i);
      t.add(words[i]!, i);
    }
    expect(foundBeforeAdd).toEqual([]);
    expect(t.size).toBe(words.length);
    // Equal strings that are other objects (cut from a bigger string) find the same entry.
    const fresh = words.join(' ').split(' ');
    for (let i = 0; i < fresh.length; i += 97) {
      const e = t.find(fresh[i]!);
      expect(t.ref(e)).toBe(i);
      t.setRef(e, -i - 1);
      expect(t.ref(t.find(words[i]!))).toBe(-i - 1);
    }
    expect(t.find('absent')).toBe(-1);
    expect(t.find('w1x')).toBe(-1);
    expect(contents(t)).toEqual(words.map((w, i) => [w, i % 97 === 0 ? -i - 1 : i]));
  });

  it('tells empty, latin1, wide and long strings apart and reads each back as it was', () => {
    const t = new CharTable();
    const keys = ['', 'a', '\xe9', 'é', '\u20ac', 'a\u20ac', '\xe9\xe9', '\u00e9\u00e9', 'a\tb', '\ud83d\ude00', 'x'.repeat(70_000), `${'y'.repeat(5000)}\u20ac`];
    keys.forEach((k, i) => {
      if (t.find(k) < 0) t.add(k, i);
    });
    // 'é' is '\xe9' and '\u00e9\u00e9' is '\xe9\xe9': the same strings, found, not added again.
    expect(t.size).toBe(keys.length - 2);
    for (const k of keys) expect(t.keyOf(t.find(k))).toBe(k);
    expect(t.find('\u20ad')).toBe(-1);
    expect(t.find('\xe8')).toBe(-1);
    expect(contents(t).map(([k]) => k)).toEqual([...new Set(keys)]);
  });

  it('agrees with a Map under random finds and adds in any order (a miss then another add, a size hint), and copies latin1 keys out', async () => {
    const { mulberry32 } = await import('./prng.js');
    for (let seed = 1; seed <= 12; seed++) {
      const rand = mulberry32(seed);
      const t = new CharTable(seed % 2 === 0 ? Math.floor(rand() * 100_000) : 0);
      const ref = new Map<string, number>();
      const wrong: string[] = [];
      const pool = Array.from({ length: 3000 }, (_, i) => (i % 5 === 0 ? `é${i}` : i % 7 === 0 ? `€${i}` : `k${i}${'x'.repeat(i % 40)}`));
      for (let i = 0; i < 20_000; i++) {
        const a = pool[Math.floor(rand() * pool.length)]!;
        const e = t.find(a);
        if ((e >= 0 ? t.ref(e) : undefined) !== ref.get(a)) wrong.push(a);
        // Sometimes another string is added between a miss and its add.
        const b = pool[Math.floor(rand() * pool.length)]!;
        if (rand() < 0.3 && !ref.has(b) && b !== a) {
          if (t.find(b) !== -1) wrong.push(b);
          // Sometimes only looked up: the next add is of `a`, not of the string missed last.
          if (rand() < 0.5) {
            t.add(b, i);
            ref.set(b, i);
          }
        }
        if (e < 0) {
          t.add(a, -i - 1);
          ref.set(a, -i - 1);
        }
      }
      expect(wrong).toEqual([]);
      expect(contents(t).sort()).toEqual([...ref].sort());
      const out = Buffer.alloc(100);
      for (let e = t.nextEntry(-1); e >= 0; e = t.nextEntry(e)) {
        const key = t.keyOf(e);
        expect(t.lengthOf(e)).toBe(key.length);
        const end = t.copyLatin1(e, out, 3);
        if ([...key].some((c) => c.charCodeAt(0) > 0xff)) expect(end).toBe(-1);
        else expect(out.toString('latin1', 3, end)).toBe(key);
      }
    }
  });

  it('finds by a hash from `hash` as `find` does, with `touch` before or not, and tells wide and newline keys', async () => {
    const { mulberry32 } = await import('./prng.js');
    const rand = mulberry32(7);
    const t = new CharTable();
    const ref = new Map<string, number>();
    const pool = Array.from({ length: 5000 }, (_, i) => (i % 11 === 0 ? `€${i}` : i % 13 === 0 ? `é${i}` : `w${i}${'y'.repeat(i % 30)}`));
    const hashes = new Int32Array(TOUCH_MAX);
    const wrong: string[] = [];
    for (let round = 0; round < 400; round++) {
      const batch = Array.from({ length: 1 + Math.floor(rand() * TOUCH_MAX) }, () => pool[Math.floor(rand() * pool.length)]!);
      batch.forEach((k, i) => (hashes[i] = t.hash(k)));
      if (round % 2 === 0) t.touch(hashes, batch.length);
      batch.forEach((k, i) => {
        t.hash(k);
        const wide = [...k].some((c) => c.charCodeAt(0) > 0xff);
        if (t.hashedWide !== wide || t.hashedNewline) wrong.push(`flags ${k}`);
        // The table may have grown since the hash was taken: the hash does not depend on its size.
        const e = t.findHashed(k, hashes[i]!, wide);
        if (e !== t.find(k) || (e >= 0 ? t.ref(e) : undefined) !== ref.get(k)) wrong.push(k);
        if (e < 0) {
          t.add(k, round);
          ref.set(k, round);
        } else {
          t.setRef(e, t.ref(e) + 1);
          ref.set(k, ref.get(k)! + 1);
        }
      });
    }
    expect(wrong).toEqual([]);
    expect(contents(t).sort()).toEqual([...ref].sort());
    t.hash('a\nb');
    expect(t.hashedNewline).toBe(true);
    expect(t.findHashed('a\nb', t.hash('a\nb'), false)).toBe(-1);
  });

  it('hashes two chars at a time: a newline or a wide char is seen at any place of a pair or the odd last char, and `hash` agrees with `find`', () => {
    const t = new CharTable();
    const base = 'abcdefg';
    for (let len = 1; len <= base.length; len++) {
      for (let at = 0; at < len; at++) {
        for (const [c, wide, newline] of [['\n', false, true], ['\u20ac', true, false], ['\xe9', false, false]] as const) {
          const s = base.slice(0, at) + c + base.slice(at + 1, len);
          const h = t.hash(s);
          expect([s, t.hashedWide, t.hashedNewline]).toEqual([s, wide, newline]);
          if (t.find(s) < 0) t.add(s, len);
          expect(t.findHashed(s, h, wide)).toBe(t.find(s));
        }
      }
    }
    // Strings that differ only in the order of their pairs, or of the chars in a pair, are told apart.
    for (const s of ['ab', 'ba', 'abcd', 'cdab', 'badc', 'aabb', 'bbaa']) if (t.find(s) < 0) t.add(s, 0);
    expect(t.size).toBe(new Set(contents(t).map(([k]) => k)).size);
    expect(contents(t).filter(([k]) => k.length === 4 && /^[abcd]+$/.test(k)).length).toBe(5);
  });
});
