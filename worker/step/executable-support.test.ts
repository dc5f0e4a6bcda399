import { describe, expect, it } from 'vitest';
import { StderrCapture, StdoutSplitter } from './executable-support.js';

function capture(limit = 1024 * 1024) {
  const counters: [string, string, number][] = [];
  const statuses: string[] = [];
  let progress = 0;
  const c = new StderrCapture(
    limit,
    (g, n, a) => counters.push([g, n, a]),
    (m) => statuses.push(m),
    () => progress++,
  );
  return { c, counters, statuses, progress: () => progress };
}

describe('StderrCapture', () => {
  it('parses reporter lines split across chunks, with CRLF, and keeps the rest', () => {
    const { c, counters, statuses, progress } = capture();
    for (const part of ['warn: x\nrepor', 'ter:counter:G,N,', '5\r\nreporter:status:héllo\n', 'tail without newline']) {
      c.write(Buffer.from(part, 'utf8'));
    }
    const { stderr, stderrTail } = c.finish();
    expect(counters).toEqual([['G', 'N', 5]]);
    expect(statuses).toEqual(['héllo']);
    expect(progress()).toBe(2);
    expect(stderr.toString('utf8')).toBe('warn: x\ntail without newline');
    expect(stderrTail).toBe('warn: x\ntail without newline');
  });

  it('a chunk of many status lines reports its last one (CRLF stripped), keeps the other lines, and counts every counter', () => {
    const { c, counters, statuses, progress } = capture();
    const lines = ['reporter:status:a', 'plain 1', 'reporter:counter:G,N,2', 'reporter:status:b', 'reporter:status:', 'plain 2', 'reporter:status:ünï\r', ''];
    c.write(Buffer.from(lines.join('\n'), 'utf8'));
    c.write(Buffer.from('reporter:status:split', 'utf8'));
    c.write(Buffer.from(' across\nreporter:status:x\nreporter:status:last\n', 'utf8'));
    expect(statuses).toEqual(['ünï', 'split across', 'last']);
    expect(counters).toEqual([['G', 'N', 2]]);
    expect(progress()).toBeGreaterThanOrEqual(4);
    expect(c.finish().stderr.toString('utf8')).toBe('plain 1\nplain 2\n');
  });

  it('treats a final reporter line without newline as a reporter line', () => {
    const { c, statuses } = capture();
    c.write(Buffer.from('reporter:status:last'));
    expect(c.finish().stderr.length).toBe(0);
    expect(statuses).toEqual(['last']);
  });

  it('does not hold back a very long line, and never reads a reporter prefix mid-line', () => {
    const { c, statuses } = capture(10 * 1024 * 1024);
    const long = 'x'.repeat(100 * 1024);
    c.write(Buffer.from(long));
    c.write(Buffer.from('reporter:status:not at line start\nreporter:status:ok\n'));
    const { stderr } = c.finish();
    expect(statuses).toEqual(['ok']);
    expect(stderr.toString('latin1')).toBe(`${long}reporter:status:not at line start\n`);
  });

  it('keeps the head and the tail within the limit and counts what was left out', () => {
    const { c } = capture(100);
    for (let i = 0; i < 100; i++) c.write(Buffer.from(`line ${String(i).padStart(3, '0')}\n`));
    const text = c.finish().stderr.toString('latin1');
    expect(text.startsWith('line 000\nline 001\n')).toBe(true);
    expect(text.endsWith('line 098\nline 099\n')).toBe(true);
    expect(text).toContain('[... 800 bytes of stderr omitted ...]');
  });

  it('keeps bytes that are not UTF-8 as they are', () => {
    const { c } = capture();
    const bytes = Buffer.from([0xff, 0x00, 0x80, 0x0a]);
    c.write(bytes);
    expect(c.finish().stderr).toEqual(bytes);
  });
});

describe('StdoutSplitter', () => {
  it('batches lines, carrying a partial line across chunks, and ends with the last unterminated line', () => {
    const s = new StdoutSplitter();
    expect(s.push(Buffer.from('a\tb\nc'))).toEqual([['a\tb']]);
    expect(s.push(Buffer.from('d'))).toEqual([]);
    expect(s.push(Buffer.from('e\nf\n\ng'))).toEqual([['cde', 'f', '']]);
    expect(s.end()).toEqual([['g']]);
    expect(s.end()).toEqual([]);
  });

  it('cuts whole-line blocks without decoding once asked, and ends the unterminated tail with a line end', () => {
    const s = new StdoutSplitter();
    s.wholeLineBlocks();
    const blocks = [...s.push(Buffer.from('k1\tv\nk2')), ...s.push(Buffer.from('\tw\nk3\t\xff', 'latin1'))];
    expect(blocks.every((b) => Buffer.isBuffer(b))).toBe(true);
    expect(Buffer.concat(blocks as Buffer[]).toString('latin1')).toBe('k1\tv\nk2\tw\n');
    expect(Buffer.concat(s.end() as Buffer[]).toString('latin1')).toBe('k3\t\xff\n'); // a last line without '\n' gets one
  });
});
