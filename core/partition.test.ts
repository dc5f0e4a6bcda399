import { describe, expect, it } from 'vitest';
import { fnv1a, partitionOf } from './partition.js';

/** Reference FNV-1a over bytes, with BigInt arithmetic. */
function referenceFnv(bytes: Buffer): number {
  let h = 0x811c9dc5n;
  for (const b of bytes) h = ((h ^ BigInt(b)) * 0x01000193n) & 0xffffffffn;
  return Number(h);
}

describe('fnv1a', () => {
  it('matches the published FNV-1a 32-bit test vectors', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });

  it('hashes the latin1 bytes, including bytes >= 0x80, as an unsigned number', () => {
    for (const key of ['\xff\xfe\x80', 'caf\xe9', 'word', '\t\r', 'x'.repeat(1000)]) {
      const h = fnv1a(key);
      expect(h).toBe(referenceFnv(Buffer.from(key, 'latin1')));
      expect(h).toBeGreaterThanOrEqual(0);
      expect(h).toBeLessThan(2 ** 32);
    }
  });
});

describe('partitionOf', () => {
  it('is fnv1a mod R, in range', () => {
    for (const key of ['', 'a', 'foobar', '\xff', 'hello world']) {
      for (const r of [1, 2, 3, 7, 100, 10000]) {
        const p = partitionOf(key, r);
        expect(p).toBe(fnv1a(key) % r);
        expect(p).toBeGreaterThanOrEqual(0);
        expect(p).toBeLessThan(r);
      }
    }
  });

  it('spreads keys over partitions', () => {
    const counts = new Array(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[partitionOf(`key${i}`, 8)]++;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });

  it('refuses fewer than one partition', () => {
    expect(() => partitionOf('a', 0)).toThrow(RangeError);
  });
});
