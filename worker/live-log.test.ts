import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { decodeLiveLog, LIVE_LOG_BYTES } from '../core/live-log.js';
import { LiveLog } from './live-log.js';

describe('LiveLog (a running attempt stderr upload)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('makes no call for an attempt shorter than one period', async () => {
    const uploads: Buffer[] = [];
    const live = new LiveLog(async (b) => void uploads.push(b), 1000);
    live.append(Buffer.from('early line\n'));
    await vi.advanceTimersByTimeAsync(999);
    await live.stop();
    await vi.advanceTimersByTimeAsync(5000);
    expect(uploads).toHaveLength(0);
  });

  it('uploads once per period, only when stderr grew, at most the last LIVE_LOG_BYTES with their offset', async () => {
    const uploads: Buffer[] = [];
    const live = new LiveLog(async (b) => void uploads.push(b), 1000);
    live.append(Buffer.from('a\n'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(uploads.map((b) => decodeLiveLog(b))).toEqual([{ start: 0, bytes: Buffer.from('a\n') }]);
    await vi.advanceTimersByTimeAsync(3000); // no growth: no upload
    expect(uploads).toHaveLength(1);
    live.append(Buffer.alloc(LIVE_LOG_BYTES, 'x'));
    await vi.advanceTimersByTimeAsync(1000);
    expect(uploads).toHaveLength(2);
    const last = decodeLiveLog(uploads[1]!);
    expect(last?.start).toBe(2);
    expect(last?.bytes.length).toBe(LIVE_LOG_BYTES);
    await live.stop();
  });

  it('retries a failed upload at the next period', async () => {
    let calls = 0;
    const live = new LiveLog(async () => {
      calls++;
      if (calls === 1) throw new Error('503');
    }, 1000);
    live.append(Buffer.from('a\n'));
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(2);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(2);
    await live.stop();
  });
});
