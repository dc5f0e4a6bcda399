/**
 * Text helpers of the step runners: records are latin1 strings (one char per byte,
 * see core/records.ts) while user modules see UTF-8 text, and failure messages carry
 * the tail of a step's stderr or stack.
 */

/** Pure ASCII: the same string in latin1 and in UTF-8. */
// eslint-disable-next-line no-control-regex -- matching the ASCII range on purpose
export const ASCII = /^[\x00-\x7f]*$/;
// eslint-disable-next-line no-control-regex -- ASCII without '\n'
const ASCII_NO_NEWLINE = /^[\x00-\x09\x0b-\x7f]*$/;

/**
 * One reused buffer for the conversions below: `Buffer.from(s)` per record allocated a
 * buffer (and a pool slice) for every non-ASCII line, which cost more than the decoding.
 * Strings longer than SCRATCH_MAX chars take the allocating way.
 */
const SCRATCH_MAX = 256 * 1024;
let scratch = Buffer.allocUnsafeSlow(16 * 1024);

function scratchOf(bytes: number): Buffer {
  if (scratch.length < bytes) scratch = Buffer.allocUnsafeSlow(Math.max(bytes, 2 * scratch.length));
  return scratch;
}

/** A latin1 record (one char per byte) as UTF-8 text for user code; pure ASCII is returned as is. */
export function latin1ToText(s: string): string {
  if (ASCII.test(s)) return s;
  if (s.length > SCRATCH_MAX) return Buffer.from(s, 'latin1').toString('utf8');
  const b = scratchOf(s.length);
  return b.toString('utf8', 0, b.write(s, 0, 'latin1'));
}

/** User text back to a latin1 record; pure ASCII is returned as is. */
export function textToLatin1(s: string): string {
  if (ASCII.test(s)) return s;
  if (s.length > SCRATCH_MAX) return Buffer.from(s, 'utf8').toString('latin1');
  // At most 3 UTF-8 bytes per UTF-16 unit (a surrogate pair: 4 bytes for 2 units).
  const b = scratchOf(3 * s.length);
  return b.toString('latin1', 0, b.write(s, 0, 'utf8'));
}

/** True when `s` is ASCII without '\n' (a short loop beats a regex call on short strings). */
export function isPlain(s: string): boolean {
  const n = s.length;
  if (n > 24) return ASCII_NO_NEWLINE.test(s);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || c === 0x0a) return false;
  }
  return true;
}

/**
 * The latin1 line `key + '\t' + value` for an emitted pair (just `key` when `value` is
 * undefined; non-strings are converted with String()); throws TypeError on a newline.
 */
export function encodeRecord(key: string, value: string): string {
  if (typeof key === 'string' && typeof value === 'string' && isPlain(key) && isPlain(value)) {
    return `${key}\t${value}`;
  }
  const line = value === undefined ? String(key) : `${key}\t${value}`;
  if (line.includes('\n')) {
    throw new TypeError(`emit(): key and value must not contain a newline (key ${JSON.stringify(String(key))})`);
  }
  return textToLatin1(line);
}

/**
 * Decode a group's latin1 values for user code, copying only when one is not ASCII. A value
 * equal to the one before it (a repeated record's copies, a word count's '1's) reuses its
 * decoding: a string comparison instead of a regex run.
 */
export function decodeValues(values: string[]): string[] {
  let out: string[] | undefined;
  let prev: string | undefined;
  let prevText = '';
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== prev) {
      prev = v;
      if (ASCII.test(v)) prevText = v;
      else {
        out ??= values.slice(0, i);
        prevText = latin1ToText(v);
      }
    }
    if (out !== undefined) out.push(prevText);
  }
  return out ?? values;
}

/** The last `maxLines` lines of `text` (at most `maxChars` characters), without a trailing newline. */
export function tailLines(text: string, maxLines = 20, maxChars = 4096): string {
  let s = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (s.length > maxChars) s = s.slice(s.length - maxChars);
  let idx = s.length;
  for (let k = 0; k < maxLines; k++) {
    const nl = idx > 0 ? s.lastIndexOf('\n', idx - 1) : -1;
    if (nl < 0) return s;
    idx = nl;
  }
  return s.slice(idx + 1);
}

/**
 * Drop bytes from the front of `chunks` (holding `held` bytes in all) until at most
 * `room` bytes remain: a bounded tail of a stream. Returns how many bytes were dropped.
 */
export function dropFront(chunks: Buffer[], held: number, room: number): number {
  let left = held;
  while (left > room) {
    const first = chunks[0]!;
    const excess = left - room;
    if (first.length <= excess) {
      chunks.shift();
      left -= first.length;
    } else {
      chunks[0] = first.subarray(excess);
      left -= excess;
    }
  }
  return held - left;
}
