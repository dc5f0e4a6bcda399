import { describe, expect, it } from 'vitest';
import { carriageReturnsToLf, countLineFeeds, splitCarriageReturns } from './line-ends.js';
import { mulberry32 } from './prng.js';

/** Hadoop's LineReader over a whole text, written directly: LF, CR-LF and CR end a line. */
function hadoopLines(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n' || ch === '\r') {
      out.push(cur);
      cur = '';
      if (ch === '\r' && text[i + 1] === '\n') i++;
    } else cur += ch;
  }
  if (cur !== '') out.push(cur);
  return out;
}

/** The split reader's LF lines (a final line without LF is a record). */
function lfLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

describe('splitCarriageReturns', () => {
  it.each([
    'a\r\nb\r\n',
    'a\rb\rc',
    'a\r\r\nb',
    '\r\n\r\n',
    'x\ry\r\n\rz\n',
    'no cr\nat all\n',
    'end with cr\r',
    '\r',
    'mixed\n\r\nlf\r',
  ])('gives Hadoop LineReader records for %j', (text) => {
    expect(splitCarriageReturns(lfLines(text))).toEqual(hadoopLines(text));
    // The byte form of whole LF lines (a final line without one given its LF) holds the same records.
    const whole = text.endsWith('\n') || text === '' ? text : `${text}\n`;
    const bytes = carriageReturnsToLf(Buffer.from(whole, 'latin1'));
    expect(lfLines(bytes.toString('latin1'))).toEqual(hadoopLines(text));
    expect(bytes.toString('latin1').endsWith('\n') || bytes.length === 0).toBe(true);
  });

  it('returns the same array when there is no CR', () => {
    const lines = ['a', 'b'];
    expect(splitCarriageReturns(lines)).toBe(lines);
  });
});

describe('carriageReturnsToLf', () => {
  it('returns the same buffer when there is no CR', () => {
    const block = Buffer.from('a\tb\nc\n');
    expect(carriageReturnsToLf(block)).toBe(block);
  });
});

describe('countLineFeeds', () => {
  it('counts every LF, whatever the alignment and length of the view', () => {
    const rnd = mulberry32(11);
    const bytes = Buffer.alloc(600);
    for (let i = 0; i < bytes.length; i++) bytes[i] = [10, 10, 13, 0x0a0a, 0x8a, 0x0b, 0x09, 0x61, 0xff, 0][Math.floor(rnd() * 10)]! & 0xff;
    for (let round = 0; round < 400; round++) {
      const from = Math.floor(rnd() * 40);
      const to = from + Math.floor(rnd() * (bytes.length - from));
      const view = bytes.subarray(from, to);
      let expected = 0;
      for (const b of view) if (b === 10) expected++;
      expect(countLineFeeds(view)).toBe(expected);
    }
    expect(countLineFeeds(Buffer.alloc(0))).toBe(0);
    expect(countLineFeeds(Buffer.alloc(1000, 10))).toBe(1000);
    expect(countLineFeeds(new Uint8Array(Buffer.alloc(7, 10)))).toBe(7);
  });
});
