/**
 * The map-side sort buffer for records that rarely repeat (a sort, a join, a large
 * vocabulary), on bytes: map output lines are copied into large arena Buffers and
 * indexed by typed arrays (chunk, offset, length, key length, partition), so a
 * buffered record is no JS string and no garbage. Partitioning reads the key bytes
 * (FNV-1a exactly as `core/partition.ts` over latin1 chars, or the total-order split
 * points compared as latin1 bytes), the sort orders indexes (core/byte-sort.ts), and
 * the sorted partitions come out as blocks of whole '\n'-ended lines, copied range by
 * range. Output order and partitions equal the string `SortBuffer`'s plain mode
 * (core/sort-buffer.ts), which still serves the counting of line strings (bytes are
 * counted by core/byte-line-counter.ts) and key-field partitioners.
 */
import { BLOCK_BYTES } from './byte-merge.js';
import { prefixDigit, type RecordRanges } from './byte-sort.js';
import { sortedLineBlocks } from './sorted-line-blocks.js';
import { FNV_OFFSET, FNV_PRIME } from './partition.js';
import { keepSpare, newDigits, takeSpare } from './byte-sort-storage.js';
import { indexCapacity, keyPrefixDigits, recordsByPartition } from './byte-sort-partitions.js';
import { routeByPoints } from './route-by-points.js';

export { releaseSpareSortStorage } from './byte-sort-storage.js';

const NL = 0x0a;
const TAB = 0x09;
/** The arena's first size (it doubles as needed). */
const FIRST_ARENA_BYTES = 4 * 1024 * 1024;
const EMPTY = Buffer.alloc(0);
/**
 * Estimated bytes per buffered record besides its line: 4 index entries and 3 prefix digits
 * (22 bytes, with growth slack) and the sort's arrays.
 */
const RECORD_OVERHEAD = 32;
/** Whole '\n'-ended lines and how many. */
export interface ByteLines {
  readonly bytes: Buffer;
  readonly lines: number;
}

export interface ByteSortBufferOptions {
  readonly numPartitions: number;
  /** Total order: route keys by these sorted split points (latin1) instead of hashing. */
  readonly splitPoints?: readonly string[];
  /**
   * The limit the buffer is usually filled to (the sort buffer's size), for sizing the first
   * arena when the first lines come with no limit (the counted lines handed over when
   * counting stops): without it the arena starts small and doubles, a copy each time.
   */
  readonly limitBytes?: number;
}

/** Map output records by partition, as bytes; see the module comment. */
export class ByteSortBuffer {
  /** Estimated bytes held (lines plus per-record overhead). */
  bytes = 0;
  /** Lines `add` took, over every fill: the caller's record count without a second scan. */
  linesTaken = 0;
  /**
   * The arena: [0, BLOCK_BYTES) is the scratch where sorted lines are gathered into output
   * blocks (`copyWithin`: no view object per line, as `Buffer#copy` makes one), the
   * records follow. It doubles when full and is reused by the next fill.
   */
  private arena: Buffer = EMPTY;
  private used = BLOCK_BYTES;
  private n = 0;
  private start = new Uint32Array(1024);
  /** Line length without its '\n'. */
  private len = new Uint32Array(1024);
  private keyLen = new Uint32Array(1024);
  private part = new Uint32Array(1024);
  /** The first 6 bytes of each line as the sort's digits, taken while the line is in cache (see `RecordRanges.digits`). */
  private digits = newDigits(1024);
  /** Set once a key had a byte below '\t' (whole-line order is then not key order). */
  private unsafe = false;
  private readonly R: number;
  private readonly points: Buffer[] | undefined;
  private readonly usualLimit: number;

  constructor(opts: ByteSortBufferOptions) {
    if (!Number.isInteger(opts.numPartitions) || opts.numPartitions < 1) {
      throw new RangeError(`numPartitions must be a positive integer, got ${opts.numPartitions}`);
    }
    this.R = opts.numPartitions;
    if (opts.splitPoints && opts.splitPoints.length >= this.R) {
      throw new RangeError(`${opts.splitPoints.length} split points need more than ${this.R} partitions`);
    }
    this.points = opts.splitPoints?.map((p) => Buffer.from(p, 'latin1'));
    this.usualLimit = opts.limitBytes ?? Infinity;
  }

  get isEmpty(): boolean {
    return this.n === 0;
  }

  /** Line bytes the arena takes without growing. */
  get room(): number {
    return Math.max(0, this.arena.length - this.used);
  }

  /**
   * Buffer the lines of `block[from..]` (whole '\n'-ended lines) until the estimate passes
   * `limitBytes`; returns the offset after the last line taken (block.length when all were).
   */
  add(block: Buffer, from: number, limitBytes: number): number {
    if (block.length > from && block[block.length - 1] !== NL) throw new RangeError('ByteSortBuffer.add: the block must end with a newline');
    if (from >= block.length || this.bytes > limitBytes) return from;
    const need = this.used + block.length - from;
    if (need > this.arena.length) this.grow(need, limitBytes);
    const at = this.used;
    block.copy(this.arena, at, from);
    const before = this.n;
    const taken = this.index(this.arena, at, at + block.length - from, limitBytes);
    this.linesTaken += this.n - before;
    this.used = at + taken;
    return from + taken;
  }

  /**
   * A bigger arena (at least `need` bytes), with the bytes held so far. An empty buffer first
   * takes the spare storage of a released one, or allocates room for the whole limit at
   * once: the lines held never pass the limit by more than the block being added, and
   * pages not written to take no memory, so growing by doubling only cost copies.
   */
  private grow(need: number, limitBytes: number): void {
    if (this.arena === EMPTY && this.n === 0) {
      const s = takeSpare(need);
      if (s) {
        ({ arena: this.arena, start: this.start, len: this.len, keyLen: this.keyLen, part: this.part, digits: this.digits } = s);
        return;
      }
    }
    const limit = Number.isFinite(limitBytes) ? limitBytes : this.usualLimit;
    const whole = Number.isFinite(limit) && this.arena === EMPTY ? BLOCK_BYTES + limit + (need - this.used) : 0;
    const size = Math.max(need, whole, this.arena.length * 2, BLOCK_BYTES + FIRST_ARENA_BYTES);
    const bigger = Buffer.allocUnsafe(size);
    if (this.used > BLOCK_BYTES) this.arena.copy(bigger, BLOCK_BYTES, BLOCK_BYTES, this.used);
    this.arena = bigger;
  }

  /**
   * Index the lines of arena[from..to) until the estimate passes the limit; returns the bytes
   * indexed. The key's bytes are hashed (FNV-1a, as core/partition.ts) only when a hash
   * picks the partition: total order (TeraSort) routes by the split points, one partition
   * needs neither.
   */
  private index(arena: Buffer, from: number, to: number, limitBytes: number): number {
    const R = this.R;
    const points = this.points;
    const hashed = points === undefined && R > 1;
    let bytes = this.bytes;
    let unsafe = this.unsafe;
    let { start, len, keyLen, part } = this;
    let [d0, d1, d2] = this.digits;
    let p = from;
    while (p < to && bytes <= limitBytes) {
      const nl = arena.indexOf(NL, p);
      let h = FNV_OFFSET;
      let k = p;
      for (; k < nl; k++) {
        const c = arena[k]!;
        if (c <= TAB) {
          if (c === TAB) break;
          unsafe = true;
        }
        if (hashed) h = Math.imul(h ^ c, FNV_PRIME);
      }
      const partition = hashed ? (h >>> 0) % R : points ? routeByPoints(points, arena, p, k) : 0;
      if (this.n === start.length) {
        this.bytes = bytes;
        this.growIndex(limitBytes);
        ({ start, len, keyLen, part } = this);
        [d0, d1, d2] = this.digits;
      }
      const i = this.n++;
      start[i] = p;
      len[i] = nl - p;
      keyLen[i] = k - p;
      part[i] = partition;
      // The line's prefix (a short key's is fixed in `take` if whole lines are not compared).
      d0[i] = prefixDigit(arena, p, nl);
      d1[i] = prefixDigit(arena, p + 2, nl);
      d2[i] = prefixDigit(arena, p + 4, nl);
      bytes += nl + 1 - p + RECORD_OVERHEAD;
      p = nl + 1;
    }
    this.bytes = bytes;
    this.unsafe = unsafe;
    return p - from;
  }

  /** Room for more records (core/byte-sort-partitions.ts `indexCapacity`). */
  private growIndex(limitBytes: number): void {
    const size = indexCapacity(this.n, this.bytes, Number.isFinite(limitBytes) ? limitBytes : this.usualLimit, RECORD_OVERHEAD);
    const more = (a: Uint32Array) => {
      const b = new Uint32Array(size);
      b.set(a);
      return b;
    };
    this.start = more(this.start);
    this.len = more(this.len);
    this.keyLen = more(this.keyLen);
    this.part = more(this.part);
    const digits = newDigits(size);
    for (let d = 0; d < 3; d++) digits[d]!.set(this.digits[d]!);
    this.digits = digits;
  }

  /**
   * Hand over the buffer as R key-sorted streams of line blocks (each partition sorted
   * when first read); the buffer starts afresh. Once every stream was read to its end,
   * the arena and index arrays are reused by the next fill. With `reuseBlocks` each partition's
   * blocks share one buffer: a block is valid only until the next one is asked for (for
   * a consumer that copies or decodes each block at once), sparing an allocation per
   * block (external memory that makes V8 run full GCs).
   */
  take(opts: { reuseBlocks?: boolean } = {}): AsyncIterable<ByteLines>[] {
    const n = this.n;
    const safe = !this.unsafe;
    const arena = this.arena;
    const digits = this.digits;
    if (!safe) keyPrefixDigits(arena, this.start, this.len, this.keyLen, digits, n);
    const records: RecordRanges = {
      buf: arena,
      start: this.start.subarray(0, n),
      cmpLen: safe ? this.len.subarray(0, n) : this.keyLen.subarray(0, n),
      digits,
    };
    const len = this.len;
    const { offsets, byPart } = recordsByPartition(this.part, n, this.R);
    this.used = BLOCK_BYTES;
    this.n = 0;
    this.bytes = 0;
    this.unsafe = false;
    // A fresh arena and index arrays while the taken ones are read; once they were read
    // (before the next fill, as the sorter awaits its spill) the taken ones come back
    // instead of being allocated and grown anew.
    const taken = [arena, this.start, this.len, this.keyLen, this.part, digits] as const;
    this.arena = EMPTY;
    this.start = new Uint32Array(1024);
    this.len = new Uint32Array(1024);
    this.keyLen = new Uint32Array(1024);
    this.part = new Uint32Array(1024);
    this.digits = newDigits(1024);
    let pending = this.R;
    const done = () => {
      if (--pending > 0) return;
      if (this.n > 0 || this.arena !== EMPTY) return;
      [this.arena, this.start, this.len, this.keyLen, this.part, this.digits] = taken;
    };
    const reuse = opts.reuseBlocks ?? false;
    return Array.from({ length: this.R }, (_, r) =>
      sortedBlocks(records, len, byPart.subarray(offsets[r]!, offsets[r + 1]!), reuse, done),
    );
  }

  /**
   * Done with this buffer: its arena and index arrays (when no record is held and no taken
   * stream is still unread) are kept for the next buffer created in this process.
   */
  release(): void {
    if (this.n > 0 || this.arena === EMPTY) return;
    keepSpare({ arena: this.arena, start: this.start, len: this.len, keyLen: this.keyLen, part: this.part, digits: this.digits });
    this.arena = EMPTY;
    this.used = BLOCK_BYTES;
    this.start = new Uint32Array(1024);
    this.len = new Uint32Array(1024);
    this.keyLen = new Uint32Array(1024);
    this.part = new Uint32Array(1024);
    this.digits = newDigits(1024);
  }
}

/** One partition's records as sorted blocks of whole lines (core/sorted-line-blocks.ts); `done` once read to the end. */
async function* sortedBlocks(r: RecordRanges, len: Uint32Array, idx: Uint32Array, reuse: boolean, done: () => void): AsyncIterable<ByteLines> {
  yield* sortedLineBlocks(r, len, idx, reuse);
  done();
}
