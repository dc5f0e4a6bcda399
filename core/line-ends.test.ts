import { describe, expect, it } from 'vitest';
import { splitCarriageReturns } from './line-ends.js';

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
  });

  it('returns the same array when there is no CR', () => {
    const lines = ['a', 'b'];
    expect(splitCarriageReturns(lines)).toBe(lines);
  });
});
