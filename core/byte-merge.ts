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

import { countedLineEnd } from './counted-lines.js';
import { compareCursors, Cursor, keyPrefix, lastLineBefore, siftDown } from './merge-cursor.js';

const NL = 0x0a;
const TAB = 0x09;

/** Runs up to this many bytes are copied by a loop rather than `Buffer#copy`. */
const SHORT_COPY = 64;

/** `addWhileBefore` stopped: the cursor's buffer is used up (load it). */
const USED_UP = 0;
/** `addWhileBefore` stopped: the cursor's current line sorts after `next`'s (sift it down). */
const AFTER_NEXT = 1;
/** `addWhileBefore` stopped: the block is full (the cursor may still come first). */
const BLOCK_FULL = 2;

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
}

/** Fills output blocks with lines and counts them, and the groups (key changes) among them. */
class BlockBuilder {
  /**
   * @param reuse hand out the same buffer every time (see `mergeSortedBytes`)
   * @param counted the lines are counted records (core/counted-lines.ts)
   */
  constructor(
    private readonly reuse: boolean,
    private readonly counted: boolean,
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

  /** Count the key of the line at `buf[pos..kend)` (its `keyPrefix` is `pre`) and make it the last key. */
  private key(buf: Buffer, pos: number, kend: number, pre: number): void {
    const lb = this.lastBuf;
    const n = kend - pos;
    if (lb === undefined || pre !== this.lastPre || n !== this.lastKend - this.lastPos) {
      this.groups++;
    } else {
      const lp = this.lastPos;
      for (let i = n < 4 ? n : 4; i < n; i++) {
        if (buf[pos + i] !== lb[lp + i]) {
          this.groups++;
          break;
        }
      }
    }
    this.lastBuf = buf;
    this.lastPos = pos;
    this.lastKend = kend;
    this.lastPre = pre;
  }

  /**
   * Append the cursor's lines while they sort before `next`'s current line and fit, in one
   * copy (at least the current line: the caller checked `fits`, or the block is empty).
   * Returns why it stopped: USED_UP, AFTER_NEXT or BLOCK_FULL (so the caller need not
   * compare the cursors again).
   */
  addWhileBefore(c: Cursor, next: Cursor): number {
    const from = c.pos;
    const first = c.nl + 1 - from;
    if (!this.fits(first)) this.out = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, first));
    const room = this.out.length - this.used;
    let stop: number;
    for (;;) {
      this.key(c.buf, c.pos, c.kend, c.pre);
      this.lines++;
      if (!c.step()) stop = USED_UP;
      else if (c.nl + 1 - from > room) stop = BLOCK_FULL;
      else if (compareCursors(c, next) > 0) stop = AFTER_NEXT;
      else continue;
      break;
    }
    // c.pos is now the first line not taken, or the buffer's end. Where sources interleave
    // line by line (a large vocabulary) a run is one short line: a byte loop copies that for
    // less than Buffer#copy's call costs.
    const n = c.pos - from;
    if (n <= SHORT_COPY) {
      const src = c.buf;
      const dst = this.out;
      const at = this.used;
      for (let i = 0; i < n; i++) dst[at + i] = src[from + i]!;
      this.used += n;
    } else this.used += c.buf.copy(this.out, this.used, from, c.pos);
    return stop;
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
    while (p < to) {
      const nl = buf.indexOf(NL, p);
      if (nl + 1 - from > room) break;
      let k = p;
      const e = this.counted ? countedLineEnd(buf, nl) : nl;
      while (k < e && buf[k] !== TAB) k++;
      this.key(buf, p, k, keyPrefix(buf, p, k));
      this.lines++;
      p = nl + 1;
    }
    this.used += buf.copy(this.out, this.used, from, p);
    return p - from;
  }

  private keyCopy: Buffer = Buffer.allocUnsafe(64);

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
    const block = { bytes: this.out.subarray(0, this.used), lines: this.lines, groups: this.groups };
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
 */
export async function* mergeSortedBytes(
  sources: readonly AsyncIterable<Buffer | Uint8Array>[],
  opts: { reuseBlocks?: boolean; counted?: boolean } = {},
): AsyncIterable<LineBlock> {
  const counted = opts.counted ?? false;
  const cursors = sources.map((s, i) => new Cursor(s[Symbol.asyncIterator](), i, counted));
  const out = new BlockBuilder(opts.reuseBlocks ?? false, counted);
  try {
    // Start every source at once: remote sources then read in parallel.
    const live = await Promise.all(cursors.map((c) => c.load()));
    const heap = cursors.filter((_, i) => live[i]);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
    while (heap.length > 1) {
      const top = heap[0]!;
      const l = heap[1]!;
      const r = heap[2];
      const ni = r !== undefined && compareCursors(r, l) < 0 ? 2 : 1;
      const next = heap[ni]!;
      let stop: number;
      if (lastLineBefore(top, next)) {
        // The rest of this buffer sorts before every other head: copy it whole.
        stop = USED_UP;
        while (top.pos < top.end) {
          top.pos += out.addRun(top.buf, top.pos, top.end);
          if (top.pos < top.end) yield out.take()!;
        }
      } else {
        if (!out.fits(top.nl + 1 - top.pos) && !out.empty) yield out.take()!;
        stop = out.addWhileBefore(top, next);
      }
      if (stop === AFTER_NEXT || (stop === BLOCK_FULL && compareCursors(top, next) > 0)) {
        // `next` is the smallest of the others and sorts before `top`: it moves up, `top` sinks from its place.
        heap[0] = next;
        heap[ni] = top;
        siftDown(heap, ni);
      }
      if (stop !== USED_UP) continue;
      out.detachLastKey();
      if (!(await top.load())) {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
      }
      siftDown(heap, 0);
    }
    // One source left: copy its lines a buffer at a time.
    const last = heap[0];
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
