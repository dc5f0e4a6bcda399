/**
 * Reading a module reducer's (or combiner's) input from the merge's byte blocks without
 * cutting every line into a string of its own (the merge hands over whole '\n'-ended lines,
 * core/merge-passes.ts). A block is decoded as one latin1 string, to cut strings from; per
 * line, the tab and the '\n' are found and the key is compared with the open group's key in
 * the bytes, so a key becomes a string of its own only once per group, and a value equal to
 * the one before it (a word count's `1`s) reuses that string. `linesOf`'s line strings and the key string cut
 * from every line were most of the reduce side's garbage (~4 M lines per 256 MiB of the
 * synthetic corpus). Decoding per line from the Buffer instead (`latin1Slice` per key and
 * value) measured slower than `linesOf`: a native call per string costs more than the copy.
 */

import type { LineIndex } from '../../core/merge-line-index.js';

type Slicer = Buffer & { latin1Slice(start: number, end: number): string };

const TAB = 0x09;
const NL = 0x0a;

/** Where one line's parts are in its block's text (end excludes the '\n'). */
export interface LineSpan {
  /** Offset of the line's first char. */
  start: number;
  /** Offset of the tab after the key, or `end` when the line has no tab (the whole line is the key). */
  keyEnd: number;
  /** Offset of the line's '\n' (or the text's end for a last line without one). */
  end: number;
}

/** A block of whole '\n'-ended lines as one latin1 string (one char per byte, like core/records.ts). */
export function blockText(buf: Buffer): string {
  return (buf as Slicer).latin1Slice(0, buf.length);
}

/**
 * Find the next line of `buf` from `start`: its tab and its end, searched in the bytes (a
 * typed array's loads cost less than a string's `indexOf` and `charCodeAt`, which were
 * over half of the step's loop on a large vocabulary). Returns false at the end of the buffer.
 */
export function nextLine(buf: Buffer, start: number, span: LineSpan): boolean {
  const n = buf.length;
  if (start >= n) return false;
  let k = start;
  let b = 0;
  while (k < n && (b = buf[k]!) !== TAB && b !== NL) k++;
  span.start = start;
  span.keyEnd = k;
  if (b === TAB && k < n) {
    k++;
    while (k < n && buf[k] !== NL) k++;
  }
  span.end = k;
  return true;
}

/**
 * Line `i` of a block from the merge's index (`start`: where it begins, after line `i - 1`'s
 * '\n'): fills `span` as `nextLine` would; returns true when the line starts a group.
 */
export function indexedLine(index: LineIndex, i: number, start: number, span: LineSpan): boolean {
  const k = index.keyEnds[i]!;
  span.start = start;
  span.keyEnd = k < 0 ? ~k : k;
  span.end = index.ends[i]!;
  return k < 0;
}

/**
 * A copy of some bytes (the open group's key, the last value) to compare lines with: the
 * block they came from may be reused by its producer once it was read, and a group may go
 * on in the next block.
 */
export class HeldBytes {
  private bytes: Buffer = Buffer.allocUnsafe(64);
  /** -1 when nothing is held. */
  private length = -1;

  /** Hold `src[start, end)`. */
  set(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n > this.bytes.length) this.bytes = Buffer.allocUnsafe(Math.max(n, 2 * this.bytes.length));
    const dst = this.bytes;
    for (let i = 0; i < n; i++) dst[i] = src[start + i]!;
    this.length = n;
  }

  /** Hold the latin1 bytes of `s` (one char per byte). */
  setString(s: string): void {
    const n = s.length;
    if (n > this.bytes.length) this.bytes = Buffer.allocUnsafe(Math.max(n, 2 * this.bytes.length));
    for (let i = 0; i < n; i++) this.bytes[i] = s.charCodeAt(i);
    this.length = n;
  }

  clear(): void {
    this.length = -1;
  }

  /** True when `src[start, end)` are the held bytes. */
  isAt(src: Buffer, start: number, end: number): boolean {
    const n = end - start;
    if (n !== this.length) return false;
    const held = this.bytes;
    for (let i = 0; i < n; i++) if (src[start + i] !== held[i]) return false;
    return true;
  }
}

/** Values up to this many bytes are compared with the previous value (longer ones are rarely equal, and comparing costs). */
const SHORT_VALUE = 32;

/** Values cut from block texts; a short one equal to the previous value returns the same string. */
export class ValueStrings {
  private prev = '';
  private readonly held = new HeldBytes();

  /** `text[start, end)` (`buf`'s bytes there), as a string of its own when it differs from the previous value. */
  of(text: string, buf: Buffer, start: number, end: number): string {
    if (this.held.isAt(buf, start, end)) return this.prev;
    this.prev = text.slice(start, end);
    if (end - start <= SHORT_VALUE) this.held.set(buf, start, end);
    else this.held.clear();
    return this.prev;
  }
}
