import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CoalescedStatus } from './status-writer.js';

describe('CoalescedStatus', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes at most once per interval, the newest message, and the last one on flush', async () => {
    const written: string[] = [];
    const s = new CoalescedStatus(async (m) => void written.push(m), 1000, () => Date.now());
    for (let i = 0; i < 100_000; i++) s.update(`line ${i}`);
    await vi.advanceTimersByTimeAsync(0);
    expect(written).toEqual(['line 99999']);
    s.update('a');
    s.update('b');
    await vi.advanceTimersByTimeAsync(500);
    expect(written).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(600);
    expect(written).toEqual(['line 99999', 'b']);
    s.update('c');
    s.update('last');
    await s.flush();
    expect(written).toEqual(['line 99999', 'b', 'last']);
    expect(s.writes).toBe(3);
  });

  it('keeps going after a failed write, and stop() drops what is pending', async () => {
    let fail = true;
    const written: string[] = [];
    const s = new CoalescedStatus(
      async (m) => {
        if (fail) throw new Error('throttled');
        written.push(m);
      },
      100,
      () => Date.now(),
    );
    s.update('x');
    await vi.advanceTimersByTimeAsync(0);
    fail = false;
    s.update('y');
    await vi.advanceTimersByTimeAsync(200);
    expect(written).toEqual(['y']);
    s.update('z');
    s.stop();
    await s.flush();
    expect(written).toEqual(['y']);
  });
});
