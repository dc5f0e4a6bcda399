import { describe, expect, it } from 'vitest';
import { mulberry32 as prng } from './prng.js';
import { WholeLineCutter } from './whole-lines.js';

/** Random bytes with '\n' at random places (long lines, empty lines, runs of '\n'). */
function randomText(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = rnd() < 0.05 ? 0x0a : Math.floor(rnd() * 256);
  return b;
}

describe('WholeLineCutter', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`cuts random chunks into blocks of whole lines that add up to the input (seed ${seed})`, () => {
      const rnd = prng(seed);
      const text = randomText(rnd, 20_000 + Math.floor(rnd() * 5000));
      const cutter = new WholeLineCutter();
      const blocks: Buffer[] = [];
      for (let at = 0; at < text.length; ) {
        // Chunks from 0 bytes (none) to longer than several lines.
        const n = Math.floor(rnd() * (rnd() < 0.3 ? 5 : 400));
        const chunk = text.subarray(at, at + n);
        const got = cutter.push(chunk);
        expect(got.length).toBeLessThanOrEqual(2);
        blocks.push(...got);
        at += n;
      }
      blocks.push(...cutter.end());
      expect(cutter.hasPartial).toBe(false);
      for (const b of blocks) {
        expect(b.length).toBeGreaterThan(0);
        expect(b[b.length - 1]).toBe(0x0a);
      }
      const want = text[text.length - 1] === 0x0a ? text : Buffer.concat([text, Buffer.from('\n')]);
      expect(Buffer.concat(blocks).equals(want)).toBe(true);
    });
  }

  it('hands on the lines after a carried one as a view of their chunk, not a copy', () => {
    const cutter = new WholeLineCutter();
    expect(cutter.push(Buffer.from('ab'))).toEqual([]);
    const chunk = Buffer.from('c\nd\ne\nf');
    const [carried, rest] = cutter.push(chunk);
    expect(carried!.toString()).toBe('abc\n');
    expect(rest!.toString()).toBe('d\ne\n');
    expect(rest!.buffer).toBe(chunk.buffer);
    expect(rest!.byteOffset).toBe(chunk.byteOffset + 2);
    expect(cutter.end().map(String)).toEqual(['f\n']);
  });
});
