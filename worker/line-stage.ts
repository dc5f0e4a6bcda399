/**
 * Whole '\n'-ended latin1 lines gathered into one reused buffer and handed on as a block
 * when it is full: the map-side aggregator's flush (./repeat-aggregator.ts) writes its
 * records straight into the byte sort buffer this way, instead of building a line string
 * per distinct record that the sort buffer would only encode again.
 */

import type { CharTable } from '../core/char-table.js';

/** Node's Buffer method behind `write(s, at, 'latin1')`, without its argument checks. */
type Latin1Writer = Buffer & { latin1Write(s: string, at: number): number };

/** Bytes gathered before a block is handed on. */
const STAGE_BYTES = 256 * 1024;

/** Lines shorter than this are written by a loop (as CharRecords.copyLatin1 copies short keys). */
const SHORT_LINE = 32;

/** Lines gathered into a reused buffer; see the module comment. */
export class LineStage {
  /** The buffer; write at `used`, after `room` said it fits. */
  buf = Buffer.allocUnsafeSlow(STAGE_BYTES) as Latin1Writer;
  used = 0;

  /** `handOn` takes a block of whole lines; the block may be reused once its promise (if any) resolved. */
  constructor(private readonly handOn: (block: Buffer) => Promise<void> | void) {}

  /**
   * Make room for `n` more bytes: hands the gathered lines on first when they would not
   * fit (a promise only then, if `handOn` gave one); a longer line gets a bigger buffer.
   */
  room(n: number): Promise<void> | void {
    if (this.used + n <= this.buf.length) return;
    const p = this.take();
    if (n > this.buf.length) this.buf = Buffer.allocUnsafeSlow(n) as Latin1Writer;
    return p;
  }

  /** Append `line` (latin1, no '\n') and its '\n'; call `room(line.length + 1)` first. */
  write(line: string): void {
    const buf = this.buf;
    let at = this.used;
    const n = line.length;
    // A short line (a combined `word\tcount`): a loop beats latin1Write's native call.
    if (n < SHORT_LINE) for (let j = 0; j < n; j++) buf[at++] = line.charCodeAt(j);
    else at += buf.latin1Write(line, at);
    buf[at++] = 0x0a;
    this.used = at;
  }

  /** Append each of `lines` (latin1, no '\n'); a promise only when a full buffer was handed on and its promise is pending. */
  writeLines(lines: string[], from = 0): Promise<void> | void {
    for (let i = from; i < lines.length; i++) {
      const line = lines[i]!;
      const p = this.room(line.length + 1);
      if (p) {
        return p.then(() => {
          this.write(line);
          return this.writeLines(lines, i + 1);
        });
      }
      this.write(line);
    }
  }

  /**
   * Append the line `key\tvalue` whose key is the string of `table`'s `entry` (latin1 chars;
   * `value` is latin1 too), copied from the table without a string; a promise as `room`.
   */
  writePair(table: CharTable, entry: number, value: string): Promise<void> | void {
    const n = table.lengthOf(entry) + value.length + 2;
    const p = this.room(n);
    if (p) return p.then(() => this.writePair(table, entry, value));
    const buf = this.buf;
    let at = table.copyLatin1(entry, buf, this.used);
    if (at < 0) throw new RangeError('LineStage.writePair: the key has a char above 0xff');
    buf[at++] = 0x09;
    for (let j = 0; j < value.length; j++) buf[at++] = value.charCodeAt(j);
    buf[at++] = 0x0a;
    this.used = at;
  }

  /** Hand the gathered lines on (nothing when none). */
  take(): Promise<void> | void {
    if (this.used === 0) return;
    const block = this.buf.subarray(0, this.used);
    this.used = 0;
    return this.handOn(block);
  }
}
