import { describe, expect, it } from 'vitest';
import { decodeLiveLog, encodeLiveLog, finalRemainder, NOTHING_SHOWN, unseenLines } from './live-log.js';

const b = (s: string) => Buffer.from(s, 'utf8');

describe('live stderr logs', () => {
  it('round-trips the offset and bytes, and refuses other objects', () => {
    expect(decodeLiveLog(encodeLiveLog(42, b('x\ny')))).toEqual({ start: 42, bytes: b('x\ny') });
    expect(decodeLiveLog(b('plain stderr\n'))).toBeUndefined();
    expect(decodeLiveLog(b('mapreduce-live-stderr -1\n'))).toBeUndefined();
  });

  it('prints complete lines once, a line being written when it ends', () => {
    const first = unseenLines(NOTHING_SHOWN, { start: 0, bytes: b('one\ntw') });
    expect(first.text.toString()).toBe('one\n');
    const second = unseenLines(first.shown, { start: 0, bytes: b('one\ntwo\nthr') });
    expect(second.text.toString()).toBe('two\n');
    expect(second.skipped).toBe(0);
    const same = unseenLines(second.shown, { start: 0, bytes: b('one\ntwo\nthr') });
    expect(same.text.length).toBe(0);
  });

  it('counts the bytes that fell out of the window before they were shown', () => {
    const first = unseenLines(NOTHING_SHOWN, { start: 0, bytes: b('a\n') });
    const later = unseenLines(first.shown, { start: 10, bytes: b('k\nl\n') });
    expect(later.skipped).toBe(8);
    expect(later.text.toString()).toBe('k\nl\n');
    expect(later.shown.end).toBe(14);
  });

  it('prints of a successful attempt log only what the live view did not show', () => {
    const { shown } = unseenLines(NOTHING_SHOWN, { start: 0, bytes: b('hello\nworld\n') });
    expect(finalRemainder(shown, b('hello\nworld\nbye\n')).toString()).toBe('bye\n');
    expect(finalRemainder(shown, b('hello\nworld\n')).toString()).toBe('');
    expect(finalRemainder(NOTHING_SHOWN, b('all\n')).toString()).toBe('all\n');
  });

  it('continues a failed attempt tail after the last bytes shown, or prints it whole', () => {
    const { shown } = unseenLines(NOTHING_SHOWN, { start: 0, bytes: b('l1\nl2\nl3\n') });
    // The failure tail keeps the last lines only: shorter than what was shown.
    expect(finalRemainder(shown, b('l2\nl3\nboom\n')).toString()).toBe('boom\n');
    expect(finalRemainder(shown, b('unrelated\n')).toString()).toBe('unrelated\n');
  });
});
