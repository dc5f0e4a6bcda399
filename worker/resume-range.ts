/**
 * A byte range read that survives a broken stream: when the body fails in the middle
 * (a connection reset after the headers, which the SDK does not retry) or ends short of
 * the range, the rest is requested again from the byte reached, so the reader sees every
 * byte of the range exactly once, or an error. Never a truncated range taken as complete.
 *
 *   get(0, 100) ── 40 bytes ──✗ reset ── get(40, 100) ── 60 bytes ── done (100 bytes, once)
 */
import { ShortRangeError } from '../core/errors.js';

/** Reads bytes [start, end) of one object. */
export type RangeReader = (start: number, end: number) => Promise<AsyncIterable<Buffer>> | AsyncIterable<Buffer>;

export interface ResumeOptions {
  /** Requests per range in all (first try plus resumes). */
  readonly attempts: number;
  /** Delay before the first resume, doubled each time. */
  readonly retryBaseMs: number;
  readonly signal?: AbortSignal;
}

export const DEFAULT_RESUME: ResumeOptions = { attempts: 4, retryBaseMs: 200 };


/** Yields the bytes of [start, end) from `get`, re-requesting from the byte reached after a break. */
export async function* resumingRange(get: RangeReader, start: number, end: number, o: ResumeOptions = DEFAULT_RESUME): AsyncIterable<Buffer> {
  let at = start;
  for (let attempt = 1; ; attempt++) {
    try {
      for await (const chunk of await get(at, end)) {
        const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
        // Never past the range, whatever the server sent.
        const take = b.subarray(0, Math.max(0, end - at));
        at += take.length;
        if (take.length > 0) yield take;
      }
      if (at >= end) return;
      throw new ShortRangeError(`Range ${start}-${end} ended at byte ${at}`, { context: { start, end, at } });
    } catch (err) {
      if (attempt >= o.attempts || o.signal?.aborted) throw err;
      await new Promise((r) => setTimeout(r, o.retryBaseMs * 2 ** (attempt - 1)));
    }
  }
}

/** The first answer of a whole-object read: its body and the object's size. */
export interface SizedBody {
  readonly body: AsyncIterable<Buffer>;
  readonly size: number;
}

/**
 * Yields every byte of a whole object: one plain GET (`getWhole`, which tells the size, so no
 * HEAD goes first); a body that breaks or ends short is resumed by ranges from the byte
 * reached, under the same attempts as `resumingRange`.
 */
export async function* resumingObject(getWhole: () => Promise<SizedBody>, get: RangeReader, o: ResumeOptions = DEFAULT_RESUME): AsyncIterable<Buffer> {
  const first = await getWhole();
  let at = 0;
  try {
    for await (const chunk of first.body) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      const take = b.subarray(0, Math.max(0, first.size - at));
      at += take.length;
      if (take.length > 0) yield take;
    }
  } catch (err) {
    if (o.attempts <= 1 || o.signal?.aborted) throw err;
    await new Promise((r) => setTimeout(r, o.retryBaseMs));
  }
  if (at < first.size) yield* resumingRange(get, at, first.size, { ...o, attempts: o.attempts - 1, retryBaseMs: o.retryBaseMs * 2 });
}
