import { describe, expect, it } from 'vitest';
import { writeTrailer } from './counted-lines.js';
import { keyPrefix, type LineScan, scanLine } from './merge-cursor.js';
import { mulberry32 as prng } from './prng.js';

describe('scanLine', () => {
  const scan = (text: string, pos = 0, counted = false): Omit<LineScan, 'longValue'> => {
    const at = { nl: -1, kend: -1, longValue: false };
    scanLine(Buffer.from(text, 'latin1'), pos, counted, at);
    return { nl: at.nl, kend: at.kend };
  };

  it("finds a line's tab and '\\n', short values and long ones (past the byte-by-byte search) alike", () => {
    expect(scan('key\t1\nnext\t2\n')).toEqual({ kend: 3, nl: 5 });
    expect(scan('key\t1\nnext\t2\n', 6)).toEqual({ kend: 10, nl: 12 });
    const long = 'v'.repeat(100);
    expect(scan(`k\t${long}\nz\n`)).toEqual({ kend: 1, nl: 102 });
    // A value of exactly 15, 16 and 17 bytes: the byte-by-byte search's edge.
    for (const n of [15, 16, 17]) expect(scan(`ab\t${'x'.repeat(n)}\n`)).toEqual({ kend: 2, nl: 3 + n });
    // After a long value the next is searched with indexOf at once: the same answers.
    const buf = Buffer.from(`k\t${long}\nab\t1\ncd\t${long}\nef\t2\n`, 'latin1');
    const at = { nl: -1, kend: -1, longValue: false };
    const seen: Array<[number, number, boolean]> = [];
    for (let p = 0; p < buf.length; p = at.nl + 1) {
      scanLine(buf, p, false, at);
      seen.push([at.kend - p, at.nl - p, at.longValue]);
    }
    expect(seen).toEqual([[1, 102, true], [2, 4, false], [2, 103, true], [2, 4, false]]);
    // A second tab belongs to the value.
    expect(scan('a\tb\tc\n')).toEqual({ kend: 1, nl: 5 });
  });

  it('takes a line without a tab (or an empty one) as all key', () => {
    expect(scan('whole line\n')).toEqual({ kend: 10, nl: 10 });
    expect(scan('\n')).toEqual({ kend: 0, nl: 0 });
    expect(scan('\tv\n')).toEqual({ kend: 0, nl: 2 });
  });

  it("ends a counted record's key before its trailer", () => {
    const record = (line: string, count: number): Buffer => {
      const buf = Buffer.alloc(line.length + 8);
      buf.write(line, 'latin1');
      const end = writeTrailer(buf, line.length, count);
      buf[end] = 0x0a;
      return buf.subarray(0, end + 1);
    };
    for (const count of [1, 5, 300, 70000]) {
      const plain = record('word', count);
      const at = { nl: -1, kend: -1, longValue: false };
      scanLine(plain, 0, true, at);
      expect(at).toEqual({ kend: 4, nl: plain.length - 1, longValue: false });
      const tabbed = record('word\t1', count);
      scanLine(tabbed, 0, true, at);
      expect(at).toEqual({ kend: 4, nl: tabbed.length - 1, longValue: false });
    }
  });
});

describe('keyPrefix', () => {
  it("orders keys as their first 4 bytes do (zero-padded), as a small integer (int32) even from a byte >= 0x80", () => {
    const rnd = prng(5);
    const bytes = [0x00, 0x01, 0x61, 0x7f, 0x80, 0xe9, 0xff];
    const key = () => Buffer.from(Array.from({ length: Math.floor(rnd() * 7) }, () => bytes[Math.floor(rnd() * bytes.length)]!));
    const head = (k: Buffer) => Buffer.concat([k.subarray(0, 4), Buffer.alloc(4)]).subarray(0, 4);
    for (let i = 0; i < 2000; i++) {
      const a = key();
      const b = key();
      const pa = keyPrefix(a, 0, a.length);
      const pb = keyPrefix(b, 0, b.length);
      expect(pa).toBe(pa | 0);
      expect(Math.sign(pa - pb)).toBe(Math.sign(Buffer.compare(head(a), head(b))));
    }
  });
});
