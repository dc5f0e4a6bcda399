import { describe, expect, it } from 'vitest';
import { partitionOf } from './partition.js';
import { keyOf } from './records.js';
import { SortBuffer } from './sort-buffer.js';
import { totalOrderPartition } from './total-order.js';

async function drain(streams: AsyncIterable<string[]>[]): Promise<string[][]> {
  const out: string[][] = [];
  for (const s of streams) {
    const lines: string[] = [];
    for await (const b of s) lines.push(...b);
    out.push(lines);
  }
  return out;
}

const keyOrder = (a: string, b: string) => Buffer.compare(Buffer.from(keyOf(a), 'latin1'), Buffer.from(keyOf(b), 'latin1'));

describe('SortBuffer', () => {
  it('counts repeated lines: holds each distinct line once and writes it as many times as it came', async () => {
    const buffer = new SortBuffer({ numPartitions: 2 });
    const lines: string[] = [];
    for (let i = 0; i < 70_000; i++) lines.push(`w${i % 50}\t1`, 'the\t1');
    expect(buffer.add(lines, 0, 1 << 20)).toBe(lines.length);
    expect(buffer.counting).toBe(true);
    // 51 distinct lines, whatever the number of records.
    expect(buffer.bytes).toBeLessThan(51 * 100);
    const parts = await drain(buffer.take());
    expect(parts.flat().length).toBe(lines.length);
    expect(parts.flat().sort()).toEqual([...lines].sort());
    parts.forEach((p, r) => {
      expect(p.every((l) => partitionOf(keyOf(l), 2) === r)).toBe(true);
      expect([...p].sort(keyOrder)).toEqual(p);
    });
    expect(buffer.isEmpty).toBe(true);
  });

  it('writes each of many counted lines (radix-sorted, shared 6-byte prefixes) as many times as it came, in key order', async () => {
    const buffer = new SortBuffer({ numPartitions: 2 });
    const lines: string[] = [];
    // 12,000 distinct lines (past the radix sort's minimum), key i coming 1 + (i % 7) times.
    for (let i = 0; i < 12_000; i++) for (let n = 0; n <= i % 7; n++) lines.push(`prefix${(i * 7919) % 12_000}\t${i % 3}`);
    expect(buffer.add(lines, 0, 1 << 30)).toBe(lines.length);
    expect(buffer.counting).toBe(true);
    const parts = await drain(buffer.take());
    expect(parts.flat().sort()).toEqual([...lines].sort());
    parts.forEach((p, r) => {
      expect(p.every((l) => partitionOf(keyOf(l), 2) === r)).toBe(true);
      expect([...p].sort(keyOrder)).toEqual(p);
    });
  });

  it('stops counting for good when most lines are distinct, keeping every line', async () => {
    const buffer = new SortBuffer({ numPartitions: 3 });
    const lines = Array.from({ length: 80_000 }, (_, i) => `k${(i * 7919) % 80_000}\tv`);
    lines.push('k1\tv', 'k1\tv');
    expect(buffer.add(lines, 0, 1 << 30)).toBe(lines.length);
    expect(buffer.counting).toBe(false);
    const parts = await drain(buffer.take());
    expect(parts.flat().sort()).toEqual([...lines].sort());
    for (const p of parts) expect([...p].sort(keyOrder)).toEqual(p);
    buffer.add(['a\t1', 'a\t1'], 0, 1 << 30);
    expect(buffer.counting).toBe(false);
  });

  it('stops taking lines once the estimate passes the limit, and says where it stopped', () => {
    for (const countRepeats of [true, false]) {
      const buffer = new SortBuffer({ numPartitions: 1, countRepeats });
      const lines = Array.from({ length: 1000 }, (_, i) => `key-${i}\tvalue`);
      const next = buffer.add(lines, 10, 2000);
      expect(next).toBeGreaterThan(10);
      expect(next).toBeLessThan(lines.length);
      expect(buffer.bytes).toBeGreaterThan(2000);
    }
  });

  it('keeps key order when a key has a byte below tab', async () => {
    for (const countRepeats of [true, false]) {
      const buffer = new SortBuffer({ numPartitions: 1, countRepeats });
      buffer.add(['a\x01', 'a\tz', 'a', '\x00', 'a\tz'], 0, 1 << 20);
      const [part] = await drain(buffer.take());
      expect(part!.map(keyOf)).toEqual(['\x00', 'a', 'a', 'a', 'a\x01']);
    }
  });

  it('routes by the total-order split points instead of hashing, counting or not; a key equal to a point goes above it', async () => {
    const points = ['g', 'p', 'w'];
    for (const countRepeats of [true, false]) {
      const buffer = new SortBuffer({ numPartitions: 4, countRepeats, splitPoints: points });
      const lines = ['zebra\t1', 'apple\t2', 'p\t3', 'g\t4', 'pear', 'apple\t2', 'w\t5', 'f\t6'];
      buffer.add(lines, 0, 1 << 20);
      const parts = await drain(buffer.take());
      expect(parts).toEqual([['apple\t2', 'apple\t2', 'f\t6'], ['g\t4'], ['p\t3', 'pear'], ['w\t5', 'zebra\t1']]);
      parts.forEach((p, r) => expect(p.every((l) => totalOrderPartition(keyOf(l), points) === r)).toBe(true));
    }
    expect(() => new SortBuffer({ numPartitions: 3, splitPoints: points })).toThrow(RangeError);
  });
});
