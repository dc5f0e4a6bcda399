import { describe, expect, it } from 'vitest';
import { ShortRangeError } from '../core/errors.js';
import { resumingRange } from './resume-range.js';

const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');

/** A reader over `data` whose n-th request breaks after `breaks[n]` bytes (reset or a short end). */
function flaky(breaks: (number | undefined)[], how: 'reset' | 'short') {
  const calls: [number, number][] = [];
  const get = (start: number, end: number) => {
    const cut = breaks[calls.length];
    calls.push([start, end]);
    return (async function* () {
      const body = data.subarray(start, end);
      if (cut === undefined) {
        yield body;
        return;
      }
      yield body.subarray(0, cut);
      if (how === 'reset') throw Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    })();
  };
  return { get, calls };
}

async function collect(it: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const b of it) parts.push(b);
  return Buffer.concat(parts).toString();
}

const fast = { attempts: 4, retryBaseMs: 1 };

describe('resumingRange', () => {
  it('reads a range that does not break in one request', async () => {
    const r = flaky([], 'reset');
    expect(await collect(resumingRange(r.get, 2, 10, fast))).toBe('cdefghij');
    expect(r.calls).toEqual([[2, 10]]);
  });

  it('re-requests from the byte reached after a reset mid-body: every byte once', async () => {
    const r = flaky([3, 2], 'reset');
    expect(await collect(resumingRange(r.get, 2, 12, fast))).toBe('cdefghijkl');
    expect(r.calls).toEqual([
      [2, 12],
      [5, 12],
      [7, 12],
    ]);
  });

  it('a body that ends short without an error is resumed too, never taken as complete', async () => {
    const r = flaky([4], 'short');
    expect(await collect(resumingRange(r.get, 0, 8, fast))).toBe('abcdefgh');
    expect(r.calls).toEqual([
      [0, 8],
      [4, 8],
    ]);
  });

  it('fails after its attempts, with the last break as the error', async () => {
    const r = flaky([1, 1, 1], 'short');
    await expect(collect(resumingRange(r.get, 0, 8, { attempts: 3, retryBaseMs: 1 }))).rejects.toBeInstanceOf(ShortRangeError);
    expect(r.calls.length).toBe(3);
  });
});
