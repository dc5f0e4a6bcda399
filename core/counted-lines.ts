/**
 * The counted intermediate form: a map output partition (or a spill run, or a reduce-side
 * merge pass file) that came from the repeat counter (core/byte-line-counter.ts) holds each
 * distinct line ONCE with its number of copies, instead of every copy. The copies are made
 * only where whole lines are needed: the bytes fed to the reducer (`expandCounted`).
 *
 * A counted record is the line's bytes, then its count, then '\n':
 *
 * ```
 *   line bytes (no '\n')   count digits (d bytes, each 0x80 | 7 bits, most significant first)   d   '\n'
 *   "the\t1"               0x83 0xe8  (= 3 * 128 + 104 = 488)                                   0x02 0x0a
 *   "zebra\t1"             (none: count 1)                                                      0x00 0x0a
 * ```
 *
 * The trailer holds neither '\n' nor '\t', so a counted partition is still '\n'-ended
 * records: the merge (core/byte-merge.ts) reads it as it reads lines, only bounding the key
 * (the bytes before the first tab, or the whole line) by the line's end before the trailer.
 * A count of 1 costs 2 bytes, a count below 128 three. Whether an object is in this form is
 * recorded beside its offsets (the map output's `format: 'counted'` on the task record);
 * nothing in the bytes says it, so a reader of the plain form is never misled.
 */
const NL = 0x0a;
/** Expanded blocks hold about this many bytes (core/byte-merge.ts's BLOCK_BYTES: that module reads this one). */
const BLOCK_BYTES = 512 * 1024;

/** The map output format value of a counted object (task record `output.format`). */
export const COUNTED_FORMAT = 'counted';

/**
 * The largest count one record holds (the counter's tally is a Uint32). A larger count is
 * written as several records of the same line: they expand to the same copies.
 */
export const MAX_RECORD_COUNT = 0xffffffff;

/** Bytes of the trailer (digits, digit count) of a record with count `c` (1 ≤ c ≤ MAX_RECORD_COUNT). */
export function trailerBytes(c: number): number {
  let d = 0;
  for (let v = c === 1 ? 0 : c; v > 0; v = Math.floor(v / 128)) d++;
  return d + 1;
}

/** Write the trailer of count `c` at `buf[at..)`; returns the position after it (where the '\n' goes). */
export function writeTrailer(buf: Buffer, at: number, c: number): number {
  if (c === 1) {
    buf[at] = 0;
    return at + 1;
  }
  const d = trailerBytes(c) - 1;
  let v = c;
  for (let i = d - 1; i >= 0; i--) {
    buf[at + i] = 0x80 | v % 128;
    v = Math.floor(v / 128);
  }
  buf[at + d] = d;
  return at + d + 1;
}

/** The end of the line (exclusive, before its trailer) of the counted record ending at `buf[nl]`. */
export function countedLineEnd(buf: Buffer, nl: number): number {
  return nl - 1 - buf[nl - 1]!;
}

/** The count of the counted record ending at `buf[nl]`. */
export function countOf(buf: Buffer, nl: number): number {
  const d = buf[nl - 1]!;
  let c = 0;
  for (let i = nl - 1 - d; i < nl - 1; i++) c = c * 128 + (buf[i]! & 0x7f);
  return d === 0 ? 1 : c;
}

/** Plain lines out of the expansion, in blocks of about BLOCK_BYTES (a longer line gets a block of its own). */
export interface ExpandedBlock {
  /** Whole '\n'-ended lines. */
  readonly bytes: Buffer;
  /** Lines in `bytes` (every copy). */
  readonly lines: number;
  /** Key changes among them, when the records came from the merge (`addMerged`), else 0. */
  readonly groups: number;
  /** Bytes of counted records these lines came from (for progress). */
  readonly stored: number;
}

/**
 * Writes each counted record's line as many times as its count into blocks of whole lines.
 * No block shares memory with the records, nor with another block.
 */
export class CountedExpander {
  private out = Buffer.allocUnsafe(BLOCK_BYTES);
  private used = 0;
  private lines = 0;
  /** Groups and stored bytes not yet handed out with a block. */
  private groups = 0;
  private stored = 0;

  /** Expand the whole records `buf[from..to)` (`to` after a '\n'); yields each block that fills up. */
  *add(buf: Buffer, from: number, to: number, groups = 0): Generator<ExpandedBlock> {
    this.groups += groups;
    this.stored += to - from;
    let p = from;
    while (p < to) {
      const nl = buf.indexOf(NL, p);
      const d = buf[nl - 1]!;
      const e = nl - 1 - d;
      if (nl < p || nl >= to || nl === p || d > 5 || e < p) throw new RangeError(`Malformed counted record at byte ${p} of a block`);
      const n = e - p + 1;
      let left = countOf(buf, nl);
      while (left > 0) {
        if (this.used + n > this.out.length) {
          if (this.used > 0) yield this.take();
          if (n > this.out.length) this.out = Buffer.allocUnsafe(n);
        }
        const out = this.out;
        const at = this.used;
        // The first copy from the record, the others by doubling what is already there.
        if (n < 24) for (let j = 0; j < n - 1; j++) out[at + j] = buf[p + j]!;
        else buf.copy(out, at, p, e);
        out[at + n - 1] = NL;
        const copies = Math.min(left, Math.floor((out.length - at) / n));
        for (let have = 1; have < copies; ) {
          const more = Math.min(have, copies - have);
          out.copyWithin(at + have * n, at, at + more * n);
          have += more;
        }
        this.used = at + copies * n;
        this.lines += copies;
        left -= copies;
      }
      p = nl + 1;
    }
  }

  /** The lines so far (undefined when there are none and nothing is left to account for). */
  flush(): ExpandedBlock | undefined {
    return this.used > 0 || this.groups > 0 || this.stored > 0 ? this.take() : undefined;
  }

  private take(): ExpandedBlock {
    const block = { bytes: this.out.subarray(0, this.used), lines: this.lines, groups: this.groups, stored: this.stored };
    this.out = Buffer.allocUnsafe(BLOCK_BYTES);
    this.used = 0;
    this.lines = 0;
    this.groups = 0;
    this.stored = 0;
    return block;
  }
}

/**
 * The plain lines of counted records, in record order. `chunks` may cut records anywhere (a
 * file or an HTTP body read); a chunk is only read during the step that received it. Throws
 * on a last record without '\n' or a malformed trailer (a counted object is written whole).
 */
export async function* expandCounted(chunks: AsyncIterable<Buffer | Uint8Array>): AsyncIterable<ExpandedBlock> {
  const x = new CountedExpander();
  let carry: Buffer | undefined;
  for await (const c of chunks) {
    let buf = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
    if (carry !== undefined) {
      buf = Buffer.concat([carry, buf]);
      carry = undefined;
    }
    const last = buf.lastIndexOf(NL);
    if (last + 1 < buf.length) carry = Buffer.from(buf.subarray(last + 1));
    if (last >= 0) yield* x.add(buf, 0, last + 1);
  }
  if (carry !== undefined) throw new RangeError('The last counted record has no newline');
  const block = x.flush();
  if (block !== undefined) yield block;
}

/** Merged counted blocks (mergeSortedBytes with `counted`) as plain lines, with their groups. */
export async function* expandMerged(
  blocks: AsyncIterable<{ readonly bytes: Buffer; readonly groups: number }>,
): AsyncIterable<ExpandedBlock> {
  const x = new CountedExpander();
  for await (const b of blocks) yield* x.add(b.bytes, 0, b.bytes.length, b.groups);
  const block = x.flush();
  if (block !== undefined) yield block;
}

/** `expandCounted` as a stream of bytes of whole plain lines (a source for the plain merge). */
export async function* expandedBytes(chunks: AsyncIterable<Buffer | Uint8Array>): AsyncIterable<Buffer> {
  for await (const b of expandCounted(chunks)) if (b.bytes.length > 0) yield b.bytes;
}
