import { describe, expect, it } from 'vitest';
import { HeldBytes, type LineSpan, nextLine, ValueStrings } from './byte-groups.js';

const lines = (text: string): LineSpan[] => {
  const buf = Buffer.from(text, 'latin1');
  const out: LineSpan[] = [];
  const span = { start: 0, keyEnd: 0, end: 0 };
  for (let pos = 0; nextLine(buf, pos, span); pos = span.end + 1) out.push({ ...span });
  return out;
};

describe('nextLine (bytes)', () => {
  it("finds each line's key end and '\\n' in the bytes: a tab, no tab, an empty line, a value with a tab", () => {
    expect(lines('ab\t1\nc\n\n\tv\nk\tx\ty\n')).toEqual([
      { start: 0, keyEnd: 2, end: 4 },
      { start: 5, keyEnd: 6, end: 6 },
      { start: 7, keyEnd: 7, end: 7 },
      { start: 8, keyEnd: 8, end: 10 },
      { start: 11, keyEnd: 12, end: 16 },
    ]);
  });

  it("takes a last line without '\\n' to the buffer's end", () => {
    expect(lines('a\t1\nb\t22')).toEqual([
      { start: 0, keyEnd: 1, end: 3 },
      { start: 4, keyEnd: 5, end: 8 },
    ]);
    expect(lines('k\t')).toEqual([{ start: 0, keyEnd: 1, end: 2 }]);
    expect(lines('key')).toEqual([{ start: 0, keyEnd: 3, end: 3 }]);
  });
});

describe('HeldBytes', () => {
  it('holds a copy: equal bytes elsewhere match, the source changing later does not matter', () => {
    const held = new HeldBytes();
    const src = Buffer.from('xxkeyxx', 'latin1');
    expect(held.isAt(src, 2, 5)).toBe(false);
    held.set(src, 2, 5);
    src.fill('z');
    expect(held.isAt(Buffer.from('key'), 0, 3)).toBe(true);
    expect(held.isAt(Buffer.from('kez'), 0, 3)).toBe(false);
    expect(held.isAt(Buffer.from('keys'), 0, 4)).toBe(false);
    held.setString('\xe9t\xe9');
    expect(held.isAt(Buffer.from('\xe9t\xe9', 'latin1'), 0, 3)).toBe(true);
    const long = Buffer.from('k'.repeat(300));
    held.set(long, 0, 300);
    expect(held.isAt(Buffer.from('k'.repeat(300)), 0, 300)).toBe(true);
    held.clear();
    expect(held.isAt(Buffer.alloc(0), 0, 0)).toBe(false);
  });
});

describe('ValueStrings', () => {
  it('returns the previous string for an equal short value, a new one otherwise', () => {
    const text = '1\n1\n2\n';
    const buf = Buffer.from(text, 'latin1');
    const v = new ValueStrings();
    const a = v.of(text, buf, 0, 1);
    expect(v.of(text, buf, 2, 3)).toBe(a);
    expect(v.of(text, buf, 4, 5)).toBe('2');
    const long = `${'v'.repeat(40)}\n${'v'.repeat(40)}\n`;
    const lb = Buffer.from(long, 'latin1');
    expect(v.of(long, lb, 0, 40)).toBe('v'.repeat(40));
    expect(v.of(long, lb, 41, 81)).toBe('v'.repeat(40));
  });
});
