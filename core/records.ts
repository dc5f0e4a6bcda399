/**
 * Records: one line of bytes without its '\n', held as a JS string decoded with
 * 'latin1' so that every char is exactly one byte. That makes string comparison
 * (`<`) raw byte order (like `LC_ALL=C sort`) and lets bytes that are not UTF-8
 * round-trip unchanged when written back with 'latin1'. A trailing '\r' (CRLF
 * input) is part of the line, as in Hadoop Streaming.
 *
 * Everything here works on BATCHES of lines (string[]): one async iteration per
 * line would cost more than the work done on the line.
 */

import { isAscii } from 'node:buffer';

/** A tab: the end of a line's key. */
export const TAB = 9;
const NL = 10;

/**
 * Strings at least this long, cut from a bigger string, are kept by V8 as a view
 * ("sliced string") that keeps the whole parent alive. Shorter ones are copies.
 */
const SLICE_MIN_LENGTH = 13;

/** The key of a line: the text before the first tab, or the whole line when it has no tab. */
export function keyOf(line: string): string {
  const tab = line.indexOf('\t');
  return tab < 0 ? line : line.slice(0, tab);
}

/** Key and value of a line. A line without a tab is all key, with an empty value. */
export function splitKeyValue(line: string): [key: string, value: string] {
  const tab = line.indexOf('\t');
  return tab < 0 ? [line, ''] : [line.slice(0, tab), line.slice(tab + 1)];
}

/** The value of a line whose key is `keyLength` chars long ('' when the line has no tab). */
export function valueAfterKey(line: string, keyLength: number): string {
  return line.length > keyLength ? line.slice(keyLength + 1) : '';
}

/**
 * True when `line`'s key is exactly `key`, without allocating the line's key:
 * the cheap test for "same group as the previous line".
 */
export function hasKey(line: string, key: string): boolean {
  const n = key.length;
  return line.startsWith(key) && (line.length === n || line.charCodeAt(n) === TAB);
}

/**
 * A copy of `s` that does not keep a larger parent string alive. Use it before
 * holding a line or key for long (a hash map of keys) while its neighbours are
 * dropped; otherwise one surviving 20-byte line can pin a whole 64 KiB chunk.
 */
export function detach(s: string): string {
  // `s + '\0'` is a rope; slicing it flattens the rope into a fresh string first,
  // so the result views that fresh copy, never the original parent.
  return s.length < SLICE_MIN_LENGTH ? s : `${s}\0`.slice(0, -1);
}

/** View any byte chunk as a Buffer without copying. */
export function asBuffer(chunk: Buffer | Uint8Array): Buffer {
  return Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Turns a stream of byte chunks into batches of complete latin1 lines.
 *
 * A final line without '\n' is still a record (returned by `end()`); input that
 * ends with '\n' yields no extra empty record; an empty line in the middle is the
 * record ''. A line spanning many chunks is assembled once, when its '\n' arrives,
 * so a multi-megabyte line costs linear time.
 */
export class LineSplitter {
  private pending: string[] = [];
  /** Every byte pushed so far was ASCII (only tracked with `trackAscii`; false once one is not). */
  private ascii: boolean;

  /**
   * @param opts.trackAscii check each chunk (`isAscii`, native and vectorized): `allAscii` then
   *   tells whether every line returned so far is ASCII, the same text in latin1 and UTF-8.
   */
  constructor(opts: { trackAscii?: boolean } = {}) {
    this.ascii = opts.trackAscii === true;
  }

  /** With `trackAscii`: every byte pushed so far (so every line returned so far) was ASCII. */
  get allAscii(): boolean {
    return this.ascii;
  }

  /** True while bytes of an unfinished line are held (so the next line is not at a line start). */
  get hasPartial(): boolean {
    return this.pending.length > 0;
  }

  /** Feed the next chunk; returns the lines it completes (often empty for a small chunk). */
  push(chunk: Buffer): string[] {
    if (chunk.length === 0) return [];
    if (this.ascii) this.ascii = isAscii(chunk);
    // Native memchr first: a chunk in the middle of a long line is just kept.
    if (chunk.indexOf(NL) < 0) {
      this.pending.push(chunk.toString('latin1'));
      return [];
    }
    const lines = chunk.toString('latin1').split('\n');
    if (this.pending.length > 0) {
      this.pending.push(lines[0]!);
      lines[0] = this.pending.join('');
      this.pending = [];
    }
    const tail = lines.pop()!;
    if (tail.length > 0) this.pending.push(tail);
    return lines;
  }

  /** End of input: the last line if it had no '\n' (empty array otherwise). */
  end(): string[] {
    if (this.pending.length === 0) return [];
    const last = this.pending.join('');
    this.pending = [];
    return [last];
  }
}

/**
 * Line batches known to hold ASCII only (marked by the split reader, core/splits.ts): a module
 * mapper then hands each line to user code as it is instead of testing it for non-ASCII chars.
 * A WeakSet: a batch is marked without a wrapper object, and forgotten with it.
 */
const asciiBatches = new WeakSet<readonly string[]>();

/** Mark a batch whose lines are all ASCII (see `isAsciiBatch`). */
export function markAsciiBatch(lines: readonly string[]): void {
  asciiBatches.add(lines);
}

/** True when `lines` was marked by `markAsciiBatch`: every line is ASCII. */
export function isAsciiBatch(lines: readonly string[]): boolean {
  return asciiBatches.has(lines);
}

/** Batches of latin1 lines from a byte stream (a file, an S3 body, a child's stdout). */
export async function* readLineBatches(source: AsyncIterable<Buffer | Uint8Array>): AsyncIterable<string[]> {
  const splitter = new LineSplitter();
  for await (const chunk of source) {
    const lines = splitter.push(asBuffer(chunk));
    if (lines.length > 0) yield lines;
  }
  const last = splitter.end();
  if (last.length > 0) yield last;
}

/** Join lines with '\n' plus a trailing '\n', as latin1 bytes. An empty batch is 0 bytes. */
export function encodeLines(lines: string[]): Buffer {
  if (lines.length === 0) return Buffer.alloc(0);
  return Buffer.from(`${lines.join('\n')}\n`, 'latin1');
}

/** Split an array into batches of at most `size` items (views are copies; the input is untouched). */
export function* chunked<T>(items: readonly T[], size: number): Iterable<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
