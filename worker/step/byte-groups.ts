/**
 * Reading a module reducer's (or combiner's) input from the merge's byte blocks without
 * cutting every line into a string of its own (the merge hands over whole '\n'-ended lines,
 * core/merge-passes.ts). A block is decoded as one latin1 string; per line, the key is
 * compared in place with the open group's key (`startsWith` at the line's offset), so a key
 * becomes a string of its own only once per group, and a value equal to the one before it (a
 * word count's `1`s) reuses that string. `linesOf`'s line strings and the key string cut
 * from every line were most of the reduce side's garbage (~4 M lines per 256 MiB of the
 * synthetic corpus). Decoding per line from the Buffer instead (`latin1Slice` per key and
 * value) measured slower than `linesOf`: a native call per string costs more than the copy.
 */

type Slicer = Buffer & { latin1Slice(start: number, end: number): string };

const TAB = 0x09;

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
 * Find the next line of `text` from `start`: its tab and its end. Returns false at the
 * end of the text. The tab is searched char by char up to the '\n' (keys are short; an
 * `indexOf('\t')` could run past the line into the rest of the block).
 */
export function nextLine(text: string, start: number, span: LineSpan): boolean {
  if (start >= text.length) return false;
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  let k = start;
  while (k < end && text.charCodeAt(k) !== TAB) k++;
  span.start = start;
  span.keyEnd = k;
  span.end = end;
  return true;
}

/** True when `text[start, end)` is `key`. */
export function isAt(text: string, start: number, end: number, key: string): boolean {
  return end - start === key.length && text.startsWith(key, start);
}

/** Values cut from block texts; one equal to the previous value returns the same string. */
export class ValueStrings {
  private prev = '';

  /** `text[start, end)`, as a string of its own when it differs from the previous value. */
  of(text: string, start: number, end: number): string {
    if (isAt(text, start, end, this.prev)) return this.prev;
    this.prev = text.slice(start, end);
    return this.prev;
  }
}
