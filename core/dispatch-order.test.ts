import { describe, expect, it } from 'vitest';
import { computeSplits } from './splits.js';
import { mapDispatchOrder, splitWork } from './dispatch-order.js';

describe('mapDispatchOrder', () => {
  it('sends the largest split first: a large last object no longer ends the map phase alone', () => {
    // Key order puts the 100-byte object last; it is sent first.
    const splits = computeSplits([
      { bucket: 'b', key: 'in/a', size: 10 },
      { bucket: 'b', key: 'in/b', size: 30 },
      { bucket: 'b', key: 'in/c', size: 20 },
      { bucket: 'b', key: 'in/z', size: 100 },
    ]);
    expect(splits.map((s) => s.key)).toEqual(['in/a', 'in/b', 'in/c', 'in/z']);
    expect(mapDispatchOrder(splits)).toEqual([3, 1, 2, 0]);
  });

  it('keeps equal splits in split order (an evenly cut input is sent as before)', () => {
    const splits = computeSplits([{ bucket: 'b', key: 'in/x', size: 4000 }], { numMappers: 4 });
    expect(mapDispatchOrder(splits)).toEqual([0, 1, 2, 3]);
    // The short tail split of an object goes after the full ones, ties in index order.
    const tail = computeSplits([{ bucket: 'b', key: 'in/x', size: 250 }, { bucket: 'b', key: 'in/y', size: 200 }], { splitSize: 100 });
    expect(tail.map(splitWork)).toEqual([100, 100, 50, 100, 100]);
    expect(mapDispatchOrder(tail)).toEqual([0, 1, 3, 4, 2]);
  });

  it('weighs a compressed split by its whole object', () => {
    const splits = computeSplits([
      { bucket: 'b', key: 'in/a.txt', size: 60 },
      { bucket: 'b', key: 'in/b.gz', size: 80 },
    ], { splitSize: 50 });
    expect(splits.map(splitWork)).toEqual([50, 10, 80]);
    expect(mapDispatchOrder(splits)).toEqual([2, 0, 1]);
  });

  it('is a permutation of every index', () => {
    const sizes = [5, 1, 9, 9, 3, 7, 1, 0, 12];
    const splits = computeSplits(sizes.map((size, i) => ({ bucket: 'b', key: `in/${i}`, size })), { splitSize: 4 });
    const order = mapDispatchOrder(splits);
    expect([...order].sort((a, b) => a - b)).toEqual(splits.map((_, i) => i));
    for (let i = 1; i < order.length; i++) expect(splitWork(splits[order[i - 1]!]!)).toBeGreaterThanOrEqual(splitWork(splits[order[i]!]!));
  });
});
