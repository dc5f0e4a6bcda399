import { afterEach, describe, expect, it } from 'vitest';
import { CharTable } from './char-table.js';
import { keepCharTableSpare, releaseCharTableSpare, takeCharTableSpare } from './char-table-storage.js';

afterEach(() => releaseCharTableSpare());

/** Every [key, ref] the table holds, in insertion order. */
function contents(t: CharTable): Array<[string, number]> {
  const all: Array<[string, number]> = [];
  for (let e = t.nextEntry(-1); e >= 0; e = t.nextEntry(e)) all.push([t.keyOf(e), t.ref(e)]);
  return all;
}

describe('CharTable storage reuse', () => {
  it('starts the arena of a table without spare storage at the size hint, so records reaching it never copy the arena', () => {
    const hint = 1 << 20;
    const t = new CharTable(10_000, hint);
    let bytes = 0;
    for (let i = 0; bytes < hint / 4; i++) {
      t.add(`key${i}`, i + 1);
      bytes = t.recordBytes;
    }
    t.release();
    const arena = takeCharTableSpare(32_768)?.arena;
    // The table's arena was the hinted one (with slack) all along: no doubling from 64 KiB.
    expect(arena?.length).toBeGreaterThanOrEqual(hint);
    expect(arena?.includes(Buffer.from('key0', 'latin1'))).toBe(true);
  });

  it('counts the arena bytes its records take (the next table\'s hint)', () => {
    const t = new CharTable();
    expect(t.recordBytes).toBe(0);
    t.add('abc', 1); // 8-byte header, 2 bytes per char reserved but 1 used, padded to 4
    expect(t.recordBytes).toBe(12);
    t.add('abcdefgh', 1);
    expect(t.recordBytes).toBe(12 + 16);
  });

  it('hands a released table\'s bucket array and arena to the next table of a fitting size', () => {
    const first = new CharTable(10_000);
    for (let i = 0; i < 10_000; i++) first.add(`key${i}`, i + 1);
    first.release();
    // What the release kept: the table's own storage, its key bytes still in the arena.
    const kept = takeCharTableSpare(16_384);
    expect(kept).toBeDefined();
    expect(kept!.arena.includes(Buffer.from('key9999', 'latin1'))).toBe(true);
    expect(takeCharTableSpare(16_384)).toBeUndefined(); // handed over, none kept
    // The released table itself is empty and still usable.
    expect(first.size).toBe(0);
    expect(first.find('key1')).toBe(-1);
    first.add('again', 7);
    expect(contents(first)).toEqual([['again', 7]]);
  });

  it('gives a table made from stale storage exactly the behaviour of a fresh one', () => {
    const old = new CharTable(10_000);
    for (let i = 0; i < 10_000; i++) old.add(`w${i}`, i + 1);
    old.release();
    const reused = new CharTable(10_000);
    expect(takeCharTableSpare(1)).toBeUndefined(); // it took the spare
    const fresh = new CharTable(10_000);
    for (const t of [reused, fresh]) {
      expect(t.find('w1')).toBe(-1);
      for (let i = 0; i < 5_000; i++) if (t.find(`w${(i * 7) % 3_000}`) < 0) t.add(`w${(i * 7) % 3_000}`, i);
      t.add('wide \u20ac', -3);
    }
    expect(contents(reused)).toEqual(contents(fresh));
    expect(reused.size).toBe(3_001);
    expect(reused.ref(reused.find('w2999'))).toBe(contents(fresh).find(([k]) => k === 'w2999')![1]);
  });

  it('keeps a spare only for tables of about its size, and the bigger of two spares', () => {
    const small = { table: new Int32Array(2 * 4096), arena: Buffer.alloc(64) };
    const big = { table: new Int32Array(2 * 65_536), arena: Buffer.alloc(64) };
    keepCharTableSpare(big);
    keepCharTableSpare(small);
    expect(takeCharTableSpare(131_072)).toBeUndefined(); // too small
    expect(takeCharTableSpare(4096)).toBeUndefined(); // 16 times too big: a sparse table to clear
    expect(takeCharTableSpare(16_384)).toBe(big);
  });
});
