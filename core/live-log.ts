/**
 * Live stderr of running attempts (`mapreduce logs --follow`): the format of the object
 * a worker rewrites while an attempt runs (layout.ts `liveLogKey`), and which part of it,
 * and then of the attempt's final log, a follower has not printed yet.
 *
 *   worker:   claim ── 5 beats ── put live (if stderr grew) ── 5 beats ── put live ── end: put final log
 *   follower:         poll: print new lines ─────────────────── poll: new lines ──── final log minus what was shown
 *
 * Short attempts (under LIVE_LOG_EVERY_BEATS heartbeats) never upload a live object.
 */

/** A running attempt's stderr is uploaded at most once per this many heartbeats, and only when it grew. */
export const LIVE_LOG_EVERY_BEATS = 5;
/** The live object holds at most the last this many bytes of the attempt's stderr. */
export const LIVE_LOG_BYTES = 64 * 1024;

const MAGIC = 'mapreduce-live-stderr ';
/** The last bytes shown of an attempt, to find where they end in its final log. */
const RECENT_BYTES = 256;

/** A live object: a header line with the stream offset of its first byte, then the bytes. */
export function encodeLiveLog(start: number, bytes: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${MAGIC}${start}\n`, 'latin1'), bytes]);
}

/** The bytes of a live object and their offset in the attempt's stderr; undefined when it is not one. */
export function decodeLiveLog(body: Buffer): { start: number; bytes: Buffer } | undefined {
  const nl = body.indexOf(10);
  const header = nl < 0 ? '' : body.toString('latin1', 0, nl);
  if (!header.startsWith(MAGIC)) return undefined;
  const start = Number(header.slice(MAGIC.length));
  if (!Number.isSafeInteger(start) || start < 0) return undefined;
  return { start, bytes: body.subarray(nl + 1) };
}

/** What a follower has printed of one attempt's stderr: up to which offset, and its last bytes. */
export interface Shown {
  readonly end: number;
  readonly recent: Buffer;
}

export const NOTHING_SHOWN: Shown = { end: 0, recent: Buffer.alloc(0) };

/**
 * The complete lines of a live object not shown yet (a line still being written waits
 * for its end), and how many bytes fell out of the live window before they could be shown.
 */
export function unseenLines(shown: Shown, live: { start: number; bytes: Buffer }): { text: Buffer; skipped: number; shown: Shown } {
  const from = Math.max(shown.end, live.start);
  const chunk = live.bytes.subarray(Math.min(from - live.start, live.bytes.length));
  const lastNl = chunk.lastIndexOf(10);
  if (lastNl < 0) return { text: Buffer.alloc(0), skipped: 0, shown };
  const text = chunk.subarray(0, lastNl + 1);
  const joined = from > shown.end ? text : Buffer.concat([shown.recent, text]);
  return {
    text,
    skipped: from - shown.end,
    shown: { end: from + text.length, recent: Buffer.from(joined.subarray(Math.max(0, joined.length - RECENT_BYTES))) },
  };
}

/**
 * The part of an attempt's final log not shown live. A successful attempt's log is its
 * whole stderr (up to the worker's limit): it goes on at the shown offset. A failed
 * attempt's log is its last lines: it goes on after the last lines shown, when they are
 * in it. Otherwise (a log cut in the middle) it is printed whole.
 */
export function finalRemainder(shown: Shown, final: Buffer): Buffer {
  if (shown.end === 0) return final;
  const r = shown.recent;
  if (final.length >= shown.end && final.subarray(shown.end - r.length, shown.end).equals(r)) return final.subarray(shown.end);
  // The longest run of whole last lines shown that the final log holds: it goes on after them.
  for (let i = 0; i < r.length; i = r.indexOf(10, i) + 1 || r.length) {
    const at = final.lastIndexOf(r.subarray(i));
    if (at >= 0) return final.subarray(at + r.length - i);
  }
  return final;
}
