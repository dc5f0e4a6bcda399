import { afterEach, describe, expect, it, vi } from 'vitest';
import { SPARE_KEEP_MS, Spare } from './spare.js';

afterEach(() => vi.useRealTimers());

describe('Spare', () => {
  it('hands its object over once, to a taker it fits; the bigger of two kept wins', () => {
    const spare = new Spare<{ n: number }>((t) => t.n);
    const big = { n: 10 };
    spare.keep(big);
    spare.keep({ n: 3 });
    expect(spare.take((t) => t.n < 5)).toBeUndefined(); // does not fit: still kept
    expect(spare.take(() => true)).toBe(big);
    expect(spare.take(() => true)).toBeUndefined();
  });

  it('lets its object go SPARE_KEEP_MS after it was kept, or when released', () => {
    vi.useFakeTimers();
    const spare = new Spare<number>((n) => n);
    spare.keep(1);
    vi.advanceTimersByTime(SPARE_KEEP_MS - 1);
    spare.keep(2); // a new keep starts the wait again
    vi.advanceTimersByTime(SPARE_KEEP_MS - 1);
    expect(spare.take(() => true)).toBe(2);
    spare.keep(3);
    vi.advanceTimersByTime(SPARE_KEEP_MS);
    expect(spare.take(() => true)).toBeUndefined();
    spare.keep(4);
    spare.release();
    expect(spare.take(() => true)).toBeUndefined();
  });
});
