/**
 * The last step of the byte sort buffers (core/byte-sort-buffer.ts, core/byte-line-counter.ts):
 * a partition's records, sorted when first read, gathered into blocks of whole lines in the
 * arena's scratch [0, BLOCK_BYTES) (one partition is read at a time). With `reuse` the
 * scratch itself is handed on (valid until the next block is asked for), else a copy.
 */
import { BLOCK_BYTES } from './byte-merge.js';
import { type RecordRanges, sortRecordIndexes } from './byte-sort.js';
import { MAX_RECORD_COUNT, trailerBytes, writeTrailer } from './counted-lines.js';

/**
 * Records whose first bytes are loaded before they are copied, a batch at a time. The gather
 * reads lines from random places of a large arena (tens of MiB): each copy waits for a cache
 * and TLB miss, one after another, since a native copy call is too long for the CPU to look
 * past. Loading a byte of each of the next TOUCH_AHEAD lines in a tight loop lets the misses
 * overlap; the copies then find the lines in cache. (Measured: 671k random 101-byte lines
 * out of 64 MiB, 130 -> 73 ms; in order 15 ms.)
 */
const TOUCH_AHEAD = 32;
/** Lines up to this many bytes (with the '\n') are copied byte by byte (see `sortedLineBlocks`). */
const SHORT_LINE = 16;
/** The touched bytes, xor-ed: kept so the loads cannot be dropped as unused. */
const touched = { bytes: 0 };

/** Load the first, the 64th and the last byte of the lines idx[from .. from + TOUCH_AHEAD) (a 100-byte line spans two or three cache lines). */
function touch(buf: Buffer, start: Uint32Array, len: Uint32Array, idx: Uint32Array, from: number): number {
  const end = Math.min(idx.length, from + TOUCH_AHEAD);
  let t = 0;
  for (let i = from; i < end; i++) {
    const rec = idx[i]!;
    const s = start[rec]!;
    const n = len[rec]!;
    t ^= buf[s]! ^ buf[s + (n < 64 ? n : 64)]! ^ buf[s + n]!;
  }
  return t;
}

/** Load the counts of the records idx[from .. from + TOUCH_AHEAD) (as random as their lines). */
function touchCounts(counts: Uint32Array, idx: Uint32Array, from: number): number {
  const end = Math.min(idx.length, from + TOUCH_AHEAD);
  let t = 0;
  for (let i = from; i < end; i++) t ^= counts[idx[i]!]!;
  return t;
}

/**
 * Blocks of the records `idx` of `r` in sorted order, each line `len[rec] + 1` bytes with its
 * '\n'; with `counts`, each record written `counts[rec]` times (the first copy from the record,
 * the others by doubling what is already there). copyWithin is native and makes no view
 * object, unlike Buffer#copy for each line. With `countedForm` (and `counts`) each record is
 * written once in the counted form (core/counted-lines.ts); a block's `lines` still counts
 * every copy.
 */
export async function* sortedLineBlocks(
  r: RecordRanges,
  len: Uint32Array,
  idx: Uint32Array,
  reuse: boolean,
  counts?: Uint32Array,
  countedForm = false,
): AsyncIterable<{ bytes: Buffer; lines: number }> {
  sortRecordIndexes(r, idx);
  if (countedForm) {
    yield* countedBlocks(r, len, idx, reuse, counts!);
    return;
  }
  const buf = r.buf;
  const block = (used: number, lines: number) => {
    const bytes = buf.subarray(0, used);
    return { bytes: reuse ? bytes : Buffer.from(bytes), lines };
  };
  let used = 0;
  let lines = 0;
  for (let i = 0; i < idx.length; i++) {
    if ((i & (TOUCH_AHEAD - 1)) === 0) touched.bytes ^= touch(buf, r.start, len, idx, i);
    const rec = idx[i]!;
    const s = r.start[rec]!;
    const n = len[rec]! + 1;
    let left = counts === undefined ? 1 : counts[rec]!;
    if (n > BLOCK_BYTES) {
      // A line longer than the scratch is a block of its own, each time.
      if (used > 0) yield block(used, lines);
      used = 0;
      lines = 0;
      for (; left > 0; left--) yield { bytes: reuse ? buf.subarray(s, s + n) : Buffer.from(buf.subarray(s, s + n)), lines: 1 };
      continue;
    }
    while (left > 0) {
      if (used + n > BLOCK_BYTES) {
        yield block(used, lines);
        used = 0;
        lines = 0;
      }
      const copies = left === 1 ? 1 : Math.min(left, Math.floor((BLOCK_BYTES - used) / n));
      // A short line (a word and its count): a loop beats copyWithin's native call.
      if (n <= SHORT_LINE) for (let j = 0; j < n; j++) buf[used + j] = buf[s + j]!;
      else buf.copyWithin(used, s, s + n);
      for (let have = 1; have < copies; ) {
        const more = Math.min(have, copies - have);
        buf.copyWithin(used + have * n, used, used + more * n);
        have += more;
      }
      used += copies * n;
      lines += copies;
      left -= copies;
    }
  }
  if (used > 0) yield block(used, lines);
}

/** The records `idx` (sorted) in the counted form: each line once, with its count, in blocks of the scratch. */
function* countedBlocks(r: RecordRanges, len: Uint32Array, idx: Uint32Array, reuse: boolean, counts: Uint32Array): Iterable<{ bytes: Buffer; lines: number }> {
  const buf = r.buf;
  let used = 0;
  let lines = 0;
  for (let i = 0; i < idx.length; i++) {
    // The same cache misses as the plain gather's: a large vocabulary's distinct lines sit in
    // first-arrival order, so sorted order reads them from random places of the arena.
    if ((i & (TOUCH_AHEAD - 1)) === 0) touched.bytes ^= touch(buf, r.start, len, idx, i) ^ touchCounts(counts, idx, i);
    const rec = idx[i]!;
    const s = r.start[rec]!;
    const l = len[rec]!;
    // A tally never exceeds MAX_RECORD_COUNT (a Uint32): one record each.
    const c = Math.min(counts[rec]!, MAX_RECORD_COUNT);
    const n = l + trailerBytes(c) + 1;
    if (used + n > BLOCK_BYTES && used > 0) {
      yield { bytes: reuse ? buf.subarray(0, used) : Buffer.from(buf.subarray(0, used)), lines };
      used = 0;
      lines = 0;
    }
    if (n > BLOCK_BYTES) {
      // A line longer than the scratch is a block of its own.
      const own = Buffer.allocUnsafe(n);
      buf.copy(own, 0, s, s + l);
      own[writeTrailer(own, l, c)] = 0x0a;
      yield { bytes: own, lines: c };
      continue;
    }
    if (l < SHORT_LINE) for (let j = 0; j < l; j++) buf[used + j] = buf[s + j]!;
    else buf.copyWithin(used, s, s + l);
    used = writeTrailer(buf, used + l, c);
    buf[used++] = 0x0a;
    lines += c;
  }
  if (used > 0) yield { bytes: reuse ? buf.subarray(0, used) : Buffer.from(buf.subarray(0, used)), lines };
}
