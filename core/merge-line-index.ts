/**
 * Where the lines of a merged block are, and which of them start a group: written by the
 * merge (core/byte-merge.ts), which finds every line's key end and '\n' and compares every
 * key with the one before anyway, so a module reducer reads its groups and values from the
 * block without scanning its bytes again nor comparing keys (worker/step/module.ts).
 */

/** A block's line positions: entry `i` is the block's line `i`, for `LineBlock.lines` entries. */
export interface LineIndex {
  /**
   * Offset in the block of line `i`'s key end (its tab, or its '\n' when it has no tab), stored
   * as `~offset` (negative) when the line's key differs from the previous line's, across
   * blocks: the line starts a group (the stream's first line always does).
   */
  readonly keyEnds: Int32Array;
  /** Offset in the block of line `i`'s '\n' (line `i + 1` starts after it). */
  readonly ends: Int32Array;
}

/** Lines of the first index (it grows when a block holds more). */
const FIRST_LINES = 16 * 1024;

/** A `LineIndex` being filled; reused from block to block. */
export class LineIndexBuilder implements LineIndex {
  keyEnds = new Int32Array(FIRST_LINES);
  ends = new Int32Array(FIRST_LINES);

  /** Record line `i`: its key end and '\n' as offsets in the block, and whether it starts a group. */
  set(i: number, keyEnd: number, end: number, startsGroup: boolean): void {
    if (i === this.ends.length) this.grow();
    this.keyEnds[i] = startsGroup ? ~keyEnd : keyEnd;
    this.ends[i] = end;
  }

  private grow(): void {
    const keyEnds = new Int32Array(2 * this.ends.length);
    const ends = new Int32Array(2 * this.ends.length);
    keyEnds.set(this.keyEnds);
    ends.set(this.ends);
    this.keyEnds = keyEnds;
    this.ends = ends;
  }
}
