import { describe, expect, it } from 'vitest';
import { collectBatches } from '../test/helpers/batches.js';
import { batchesOf, combineGroups, groupBatches, groups, mergeSorted } from './merge.js';
import { keyOf } from './records.js';
import { mulberry32 as prng } from './prng.js';

/** Byte-order comparison of keys, like `LC_ALL=C sort` on the key field. */
const byKeyBytes = (a: string, b: string) =>
  Buffer.compare(Buffer.from(keyOf(a), 'latin1'), Buffer.from(keyOf(b), 'latin1'));

function randomLine(rnd: () => number): string {
  const chars = ['a', 'b', 'c', '\xe9', '\xff', '\x01', ' ', '\r'];
  let key = '';
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) key += chars[Math.floor(rnd() * chars.length)];
  return rnd() < 0.2 ? key : `${key}\tv${Math.floor(rnd() * 1000)}`;
}

/** Cut an array into random-sized batches, some empty. */
async function* randomBatches(lines: string[], rnd: () => number): AsyncIterable<string[]> {
  let i = 0;
  while (i < lines.length) {
    const n = Math.floor(rnd() * 6);
    yield lines.slice(i, i + n);
    i += n;
  }
}

describe('mergeSorted', () => {
  it('merges random key-sorted sources into key order, keeping every line', async () => {
    const rnd = prng(11);
    for (let round = 0; round < 100; round++) {
      const k = Math.floor(rnd() * 6);
      const inputs = Array.from({ length: k }, () =>
        Array.from({ length: Math.floor(rnd() * 40) }, () => randomLine(rnd)).sort(byKeyBytes),
      );
      const out = await collectBatches(
        mergeSorted(
          inputs.map((l) => randomBatches(l, rnd)),
          { batchSize: 1 + (round % 7) },
        ),
      );
      expect([...out].sort()).toEqual(inputs.flat().sort());
      for (let i = 1; i < out.length; i++) expect(byKeyBytes(out[i - 1]!, out[i]!)).toBeLessThanOrEqual(0);
    }
  });

  it('breaks ties by source index', async () => {
    const a = ['k\ta1', 'k\ta2', 'z\ta'];
    const b = ['k\tb1', 'm\tb'];
    const c = ['a\tc', 'k\tc1'];
    const out = await collectBatches(mergeSorted([batchesOf(a, 1), batchesOf(b, 1), batchesOf(c, 1)]));
    expect(out).toEqual(['a\tc', 'k\ta1', 'k\ta2', 'k\tb1', 'k\tc1', 'm\tb', 'z\ta']);
  });

  it('sorts by key, not by the whole line, for keys with bytes below tab', async () => {
    // Key "a" < key "a\x01" although the line "a\tz" > "a\x01" as whole strings.
    const out = await collectBatches(mergeSorted([batchesOf(['a\x01']), batchesOf(['a\tz'])]));
    expect(out).toEqual(['a\tz', 'a\x01']);
  });

  it('respects batchSize and handles no or empty sources', async () => {
    const lines = Array.from({ length: 100 }, (_, i) => `k${String(i).padStart(3, '0')}`);
    const batches: string[][] = [];
    for await (const b of mergeSorted(
      [batchesOf(lines.filter((_, i) => i % 2)), batchesOf(lines.filter((_, i) => !(i % 2)))],
      {
        batchSize: 10,
      },
    )) {
      batches.push(b);
    }
    expect(batches.flat()).toEqual(lines);
    for (const b of batches) expect(b.length).toBeLessThanOrEqual(10);
    expect(await collectBatches(mergeSorted([]))).toEqual([]);
    expect(await collectBatches(mergeSorted([batchesOf([]), batchesOf([])]))).toEqual([]);
  });

  it('closes every source when the consumer stops early', async () => {
    const closed: number[] = [];
    async function* src(i: number): AsyncIterable<string[]> {
      try {
        for (let n = 0; n < 1000; n++) yield [`k${String(n).padStart(4, '0')}\t${i}`];
      } finally {
        closed.push(i);
      }
    }
    for await (const _ of mergeSorted([src(0), src(1), src(2)], { batchSize: 4 })) break;
    expect(closed.sort()).toEqual([0, 1, 2]);
  });
});

describe('groups', () => {
  it('yields runs of equal key, joining runs across input batches', async () => {
    const sorted = ['a\t1', 'a\t2', 'b', 'b\t3', 'c\t4', 'c\t5', 'c\t6', 'd'];
    const runs = await collectBatches(groupBatches(batchesOf(sorted, 3)));
    expect(runs).toEqual([
      ['a', ['a\t1', 'a\t2']],
      ['b', ['b', 'b\t3']],
      ['c', ['c\t4', 'c\t5', 'c\t6']],
      ['d', ['d']],
    ]);
    const single: [string, string[]][] = [];
    for await (const g of groups(batchesOf(sorted, 2))) single.push(g);
    expect(single).toEqual(runs);
  });

  it('splits a huge group into adjacent runs of the same key', async () => {
    const sorted = [...Array.from({ length: 10 }, (_, i) => `k\t${i}`), 'z'];
    const runs = await collectBatches(groupBatches(batchesOf(sorted, 3), { maxRunLines: 4 }));
    // Batches of 3 with a cap of 4: k0-k5 (flushed past the cap), k6-k9 (ended by z), z.
    expect(runs.map(([k, l]) => [k, l.length])).toEqual([
      ['k', 6],
      ['k', 4],
      ['z', 1],
    ]);
    expect(runs.flatMap(([, l]) => l)).toEqual(sorted);
  });

  it('does not confuse a key with a longer key that starts with it', async () => {
    const runs = await collectBatches(groupBatches(batchesOf(['ab\t1', 'abc\t2', 'abc'], 1)));
    expect(runs).toEqual([
      ['ab', ['ab\t1']],
      ['abc', ['abc\t2', 'abc']],
    ]);
  });
});

describe('combineGroups', () => {
  const sum = (key: string, lines: string[]) => [
    `${key}\t${lines.reduce((n, l) => n + Number(l.slice(key.length + 1)), 0)}`,
  ];

  it('combines groups of two or more lines, passing single lines through', async () => {
    const sorted = ['a\t1', 'a\t2', 'b\t5', 'c\t1', 'c\t1', 'c\t1'];
    const calls: string[] = [];
    const out = await collectBatches(
      combineGroups(batchesOf(sorted, 2), (k, l) => {
        calls.push(k);
        return sum(k, l);
      }),
    );
    expect(out).toEqual(['a\t3', 'b\t5', 'c\t3']);
    expect(calls).toEqual(['a', 'c']);
  });

  it('combines a huge group piecewise and supports async combiners', async () => {
    const sorted = [...Array.from({ length: 1000 }, () => 'k\t1'), 'z\t1'];
    let biggest = 0;
    const out = await collectBatches(
      combineGroups(
        batchesOf(sorted, 7),
        async (k, l) => {
          biggest = Math.max(biggest, l.length);
          return sum(k, l);
        },
        { combineAt: 50 },
      ),
    );
    expect(out).toEqual(['k\t1000', 'z\t1']);
    expect(biggest).toBeLessThan(60);
  });

  it('joins a group across batch ends, keeps keys that are prefixes apart, and passes tabless lines', async () => {
    const sorted = ['a', 'a\t1', 'ab\t1', 'b\t1', 'b\t2', 'b\t3', 'c\t1', 'c\t9'];
    const calls: string[] = [];
    const combine = (k: string, l: string[]) => {
      calls.push(`${k}:${l.length}`);
      return k === 'c' ? [] : sum(k, l); // a combiner may drop a group
    };
    for (const size of [1, 2, 3, 8]) {
      calls.length = 0;
      expect(await collectBatches(combineGroups(batchesOf(sorted, size), combine))).toEqual(['a\t1', 'ab\t1', 'b\t6']);
      expect(calls).toEqual(['a:2', 'b:3', 'c:2']);
    }
  });
});
