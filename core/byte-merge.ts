/**
 * The reduce side's k-way merge on bytes: key-sorted streams of '\n'-ended lines are
 * merged into blocks of whole lines without ever decoding a line to a JS string. The
 * order is `mergeSorted`'s (core/merge.ts) exactly: keys (the bytes before the first
 * tab, or the whole line) in unsigned byte order, which is the order of latin1 strings
 * and Hadoop's raw comparator, equal keys in source order. A reducer that reads bytes
 * (the identity `cat`, an executable's stdin) gets the blocks as they are; the others
 * decode a block once (`linesOf`), in one string per block instead of one per line.
 *
 * Why bytes: with strings, every shuffled byte was decoded to a line string, merged by
 * string keys, joined again and encoded back into a Buffer, and each line was garbage.
 * Here a line costs a memchr for its '\n', a key scan, a few byte comparisons and one
 * copy into the output block.
 */

import { compareCursors, Cursor, keyPrefix, lastLineBefore, type LineScan, LoserTree, scanLine } from './merge-cursor.js';
import { type LineIndex, LineIndexBuilder } from './merge-line-index.js';

const NL = 0x0a;

/** Runs up to this many bytes are copied by a loop rather than `Buffer#copy`. */
const SHORT_COPY = 64;

/** Wins in a row after which the merge looks for a run in the winning source (see `mergeSortedBytes`). */
const RUN_AFTER = 2;

/** Output blocks hold about this many bytes (a longer line gets a block of its own size). */
export const BLOCK_BYTES = 512 * 1024;

/** Whole lines out of the merge, in order. */
export interface LineBlock {
  /** The lines, each ended by '\n' (a source's last line without one gets it here). */
  readonly bytes: Buffer;
  /** How many lines. */
  readonly lines: number;
  /** Lines whose key differs from the previous line's (across blocks): the groups that start here. */
  readonly groups: number;
  /**
   * Where each line's key and '\n' are and which lines start a group (`mergeSortedBytes`'
   * `lineIndex`); valid, like a reused block, only until the next block is asked for.
   */
  readonly index?: LineIndex;
}

/** Fills output blocks with lines and counts them, and the groups (key changes) among them. */
class BlockBuilder {
  /**
   * @param reuse hand out the same buffer every time (see `mergeSortedBytes`)
   * @param counted the lines are counted records (core/counted-lines.ts)
   * @param index where to record each line's position (`mergeSortedBytes`' `lineIndex`)
   */
  constructor(
    private readonly reuse: boolean,
    private readonly counted: boolean,
    private readonly index: LineIndexBuilder | undefined,
  ) {}
  private out: Buffer = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;
  private lines = 0;
  private groups = 0;
  /** The previous line's key: `lastBuf[lastPos..lastKend)`; none yet when lastBuf is undefined. */
  private lastBuf: Buffer | undefined;
  private lastPos = 0;
  private lastKend = 0;
  private lastPre = 0;

  /** Room for `n` more bytes without a flush. */
  fits(n: number): boolean {
    return this.used + n <= this.out.length;
  }

  get empty(): boolean {
    return this.used === 0;
  }

  /**
   * Count the key of the line at `buf[pos..kend)` (its `keyPrefix` is `pre`) and make it the
   * last key; with an index, record the line (`nl`: its '\n'; `at`: where `pos` lands in the block).
   */
  private key(buf: Buffer, pos: number, kend: number, pre: number, nl: number, at: number): void {
    const lb = this.lastBuf;
    const n = kend - pos;
    let fresh = false;
    if (lb === undefined || pre !== this.lastPre || n !== this.lastKend - this.lastPos) {
      fresh = true;
    } else {
      const lp = this.lastPos;
      for (let i = n < 4 ? n : 4; i < n; i++) {
        if (buf[pos + i] !== lb[lp + i]) {
          fresh = true;
          break;
        }
      }
    }
    if (fresh) this.groups++;
    if (this.index !== undefined) this.index.set(this.lines, at + n, at + nl - pos, fresh);
    this.lastBuf = buf;
    this.lastPos = pos;
    this.lastKend = kend;
    this.lastPre = pre;
  }

  /** Append the cursor's current line (the caller checked `fits`, or the block is empty); false when its buffer is used up (call `load`). */
  addLine(c: Cursor): boolean {
    const from = c.pos;
    const n = c.nl + 1 - from;
    if (!this.fits(n)) this.out = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, n));
    this.key(c.buf, from, c.kend, c.pre, c.nl, this.used);
    this.lines++;
    this.copy(c.buf, from, n);
    return c.step();
  }

  /** Copy `n` bytes of `src` from `from` to the block's end. */
  private copy(src: Buffer, from: number, n: number): void {
    // Where sources interleave line by line (a large vocabulary) a run is one short line: a
    // byte loop copies that for less than Buffer#copy's call costs.
    if (n <= SHORT_COPY) {
      const dst = this.out;
      const at = this.used;
      for (let i = 0; i < n; i++) dst[at + i] = src[from + i]!;
      this.used += n;
    } else this.used += src.copy(this.out, this.used, from, from + n);
  }

  /**
   * Append the cursor's lines while they sort before `next`'s current line and fit, in one
   * copy (at least the current line: the caller checked `fits`, or the block is empty).
   * Returns false when the cursor's buffer is used up (call `load`).
   */
  addWhileBefore(c: Cursor, next: Cursor): boolean {
    const from = c.pos;
    const first = c.nl + 1 - from;
    if (!this.fits(first)) this.out = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, first));
    const room = this.out.length - this.used;
    let more: boolean;
    for (;;) {
      this.key(c.buf, c.pos, c.kend, c.pre, c.nl, this.used + c.pos - from);
      this.lines++;
      more = c.step();
      if (!more || c.nl + 1 - from > room || compareCursors(c, next) > 0) break;
    }
    // c.pos is now the first line not taken, or the buffer's end.
    this.copy(c.buf, from, c.pos - from);
    return more;
  }

  /**
   * Append the whole lines `buf[from..to)` (from a line start to a '\n'), counting lines and
   * groups; the bytes are copied once. Returns how many bytes were taken (whole lines, at
   * least one unless the block is not empty) so the caller can flush and go on.
   */
  addRun(buf: Buffer, from: number, to: number): number {
    if (this.used === 0) {
      // A line longer than a block gets a block of its own size.
      const first = buf.indexOf(NL, from) + 1 - from;
      if (first > this.out.length) this.out = Buffer.allocUnsafe(first);
    }
    let p = from;
    const room = this.out.length - this.used;
    const at = this.scan;
    while (p < to) {
      scanLine(buf, p, this.counted, at);
      const nl = at.nl;
      if (nl + 1 - from > room) break;
      this.key(buf, p, at.kend, keyPrefix(buf, p, at.kend), nl, this.used + p - from);
      this.lines++;
      p = nl + 1;
    }
    this.used += buf.copy(this.out, this.used, from, p);
    return p - from;
  }

  private keyCopy: Buffer = Buffer.allocUnsafe(64);
  private readonly scan: LineScan = { nl: 0, kend: 0, longValue: false };

  /**
   * Copy the last key out of its source's buffer before that source reads on: a source may
   * reuse its buffer for the next read (core/merge-passes.ts `fileSegment`).
   */
  detachLastKey(): void {
    const lb = this.lastBuf;
    if (lb === undefined || lb === this.keyCopy) return;
    const n = this.lastKend - this.lastPos;
    if (this.keyCopy.length < n) this.keyCopy = Buffer.allocUnsafe(n);
    lb.copy(this.keyCopy, 0, this.lastPos, this.lastKend);
    this.lastBuf = this.keyCopy;
    this.lastPos = 0;
    this.lastKend = n;
  }

  /** The block so far (undefined when empty); the next lines go to a fresh buffer, or the same one when reused. */
  take(): LineBlock | undefined {
    if (this.used === 0) return undefined;
    const block = { bytes: this.out.subarray(0, this.used), lines: this.lines, groups: this.groups, index: this.index };
    // The last key may live in the taken block's sources (until `detachLastKey`): it is only read, never written.
    if (!this.reuse) this.out = Buffer.allocUnsafe(BLOCK_BYTES);
    this.used = 0;
    this.lines = 0;
    this.groups = 0;
    return block;
  }
}

/**
 * Merge byte streams of key-sorted '\n'-ended lines into blocks of whole lines, in key
 * byte order with equal keys in source order (as `mergeSorted` does for line strings).
 * When one source's whole buffered run sorts before every other head it is copied in one
 * piece; when one source is left its lines are copied a chunk at a time.
 *
 * With `reuseBlocks` every block is the same buffer, valid only until the next block is
 * asked for: for a consumer that copies or decodes each block at once (a file writer's
 * staging copy), sparing a fresh 512 KiB of external memory per block.
 *
 * With `counted` every source is in the counted form (core/counted-lines.ts) and so is the
 * output: records are merged by key as lines are (identical lines from different sources are
 * interchangeable, so expanding the merged records gives the plain merge of the expanded
 * sources), and a block's `lines` counts records, not copies.
 *
 * With `lineIndex` every block carries its `LineIndex` (one reused index, valid until the next
 * block is asked for): the positions and group starts the merge found, for a consumer that
 * would otherwise scan and compare the lines again (a module reducer). Costs a store per line.
 */
export async function* mergeSortedBytes(
  sources: readonly AsyncIterable<Buffer | Uint8Array>[],
  opts: { reuseBlocks?: boolean; counted?: boolean; lineIndex?: boolean } = {},
): AsyncIterable<LineBlock> {
  const counted = opts.counted ?? false;
  const cursors = sources.map((s, i) => new Cursor(s[Symbol.asyncIterator](), i, counted));
  const out = new BlockBuilder(opts.reuseBlocks ?? false, counted, opts.lineIndex === true ? new LineIndexBuilder() : undefined);
  try {
    // Start every source at once: remote sources then read in parallel.
    const live = await Promise.all(cursors.map((c) => c.load()));
    const leaves = cursors.filter((_, i) => live[i]);
    const tree = new LoserTree(leaves);
    // A source that keeps winning may hold a run: then (only then) its lines are compared
    // with the runner-up's, so a run is copied in one piece (`addWhileBefore`), or a whole
    // buffer of it (`lastLineBefore`), instead of one tree replay per line. Where sources
    // interleave, a streak of RUN_AFTER wins is rare, and looking for runs would cost more.
    // With two sources the runner-up is known without a comparison: always look.
    const runAfter = leaves.length <= 2 ? 0 : RUN_AFTER;
    let previous = -1;
    let streak = 0;
    while (tree.live > 1) {
      const w = tree.winner;
      const top = leaves[w]!;
      let more: boolean;
      streak = w === previous ? streak + 1 : 0;
      const next = streak >= runAfter ? tree.runnerUp() : undefined;
      if (next !== undefined && lastLineBefore(top, next)) {
        // The rest of this buffer sorts before every other head: copy it whole.
        more = false;
        while (top.pos < top.end) {
          top.pos += out.addRun(top.buf, top.pos, top.end);
          if (top.pos < top.end) yield out.take()!;
        }
      } else {
        if (!out.fits(top.nl + 1 - top.pos) && !out.empty) yield out.take()!;
        more = next !== undefined ? out.addWhileBefore(top, next) : out.addLine(top);
      }
      previous = w;
      if (!more) {
        out.detachLastKey();
        if (!(await top.load())) {
          tree.endWinner();
          previous = -1;
        }
      }
      tree.replay();
    }
    // One source left: copy its lines a buffer at a time.
    const last = tree.live === 1 ? leaves[tree.winner] : undefined;
    if (last !== undefined) {
      do {
        while (last.pos < last.end) {
          last.pos += out.addRun(last.buf, last.pos, last.end);
          if (last.pos < last.end) yield out.take()!;
        }
        out.detachLastKey();
      } while (await last.load());
    }
    const block = out.take();
    if (block !== undefined) yield block;
  } finally {
    // Stop sources that were not drained (consumer stopped early, or an error).
    await Promise.allSettled(cursors.map((c) => c.close()));
  }
}

/** The lines of a block as latin1 strings (one decode per block), without their '\n'. */
export function linesOf(bytes: Buffer): string[] {
  if (bytes.length === 0) return [];
  return bytes.toString('latin1', 0, bytes.length - 1).split('\n');
}
