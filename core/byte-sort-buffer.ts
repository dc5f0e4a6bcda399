/**
 * The map-side sort buffer for records that rarely repeat (a sort, a join, a large
 * vocabulary), on bytes: map output lines are copied into large arena Buffers and
 * indexed by typed arrays (chunk, offset, length, key length, partition), so a
 * buffered record is no JS string and no garbage. Partitioning reads the key bytes
 * (FNV-1a exactly as `core/partition.ts` over latin1 chars, or the total-order split
 * points compared as latin1 bytes), the sort orders indexes (core/byte-sort.ts), and
 * the sorted partitions come out as blocks of whole '\n'-ended lines, copied range by
 * range. Output order and partitions equal the string `SortBuffer`'s plain mode
 * (core/sort-buffer.ts), which still serves the counting mode and key-field
 * partitioners.
 */
import { BLOCK_BYTES } from './byte-merge.js';
import { sortRecordIndexes, type RecordRanges } from './byte-sort.js';
import { FNV_OFFSET, FNV_PRIME } from './partition.js';

const NL = 0x0a;
const TAB = 0x09;
/** Arena chunk size: one copy per chunk of mapper output, few allocations. */
const CHUNK_BYTES = 4 * 1024 * 1024;
/** Estimated bytes per buffered record besides its line: 5 index entries (with growth slack) and the sort's arrays. */
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
}

/** Map output records by partition, as bytes; see the module comment. */
export class ByteSortBuffer {
  /** Estimated bytes held (lines plus per-record overhead). */
  bytes = 0;
  private chunks: Buffer[] = [];
  private used = 0;
  private n = 0;
  private chunk = new Uint32Array(1024);
  private start = new Uint32Array(1024);
  /** Line length without its '\n'. */
  private len = new Uint32Array(1024);
  private keyLen = new Uint32Array(1024);
  private part = new Uint32Array(1024);
  /** Set once a key had a byte below '\t' (whole-line order is then not key order). */
  private unsafe = false;
  /** Arena chunks handed back after their records were written, for the next fill. */
  private readonly pool: Buffer[] = [];
  private readonly R: number;
  private readonly points: Buffer[] | undefined;

  constructor(opts: ByteSortBufferOptions) {
    if (!Number.isInteger(opts.numPartitions) || opts.numPartitions < 1) {
      throw new RangeError(`numPartitions must be a positive integer, got ${opts.numPartitions}`);
    }
    this.R = opts.numPartitions;
    if (opts.splitPoints && opts.splitPoints.length >= this.R) {
      throw new RangeError(`${opts.splitPoints.length} split points need more than ${this.R} partitions`);
    }
    this.points = opts.splitPoints?.map((p) => Buffer.from(p, 'latin1'));
  }

  get isEmpty(): boolean {
    return this.n === 0;
  }

  /**
   * Buffer the lines of `block[from..]` (whole '\n'-ended lines) until the estimate passes
   * `limitBytes`; returns the offset after the last line taken (block.length when all were).
   */
  add(block: Buffer, from: number, limitBytes: number): number {
    if (block.length > from && block[block.length - 1] !== NL) throw new RangeError('ByteSortBuffer.add: the block must end with a newline');
    let p = from;
    while (p < block.length && this.bytes <= limitBytes) {
      let arena = this.chunks[this.chunks.length - 1];
      let room = arena ? arena.length - this.used : 0;
      // The whole lines of block[p..] that fit in the arena's room.
      let cut = room > 0 ? block.lastIndexOf(NL, Math.min(block.length, p + room) - 1) : -1;
      if (cut < p) {
        const first = block.indexOf(NL, p);
        arena = this.newChunk(first + 1 - p);
        room = arena.length;
        cut = block.lastIndexOf(NL, Math.min(block.length, p + room) - 1);
      }
      const at = this.used;
      block.copy(arena!, at, p, cut + 1);
      const taken = this.index(arena!, at, at + cut + 1 - p, limitBytes);
      this.used = at + taken;
      p += taken;
    }
    return p;
  }

  /** Index the lines of arena[from..to) until the estimate passes the limit; returns the bytes indexed. */
  private index(arena: Buffer, from: number, to: number, limitBytes: number): number {
    const chunkNo = this.chunks.length - 1;
    const R = this.R;
    const points = this.points;
    let bytes = this.bytes;
    let unsafe = this.unsafe;
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
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      let partition = 0;
      if (points) partition = routeByPoints(points, arena, p, k);
      else if (R > 1) partition = (h >>> 0) % R;
      if (this.n === this.chunk.length) this.grow();
      const i = this.n++;
      this.chunk[i] = chunkNo;
      this.start[i] = p;
      this.len[i] = nl - p;
      this.keyLen[i] = k - p;
      this.part[i] = partition;
      bytes += nl + 1 - p + RECORD_OVERHEAD;
      p = nl + 1;
    }
    this.bytes = bytes;
    this.unsafe = unsafe;
    return p - from;
  }

  private newChunk(minBytes: number): Buffer {
    const reuse = minBytes <= CHUNK_BYTES ? this.pool.pop() : undefined;
    const chunk = reuse ?? Buffer.allocUnsafe(Math.max(CHUNK_BYTES, minBytes));
    this.chunks.push(chunk);
    this.used = 0;
    return chunk;
  }

  private grow(): void {
    const size = this.n * 2;
    const more = (a: Uint32Array) => {
      const b = new Uint32Array(size);
      b.set(a);
      return b;
    };
    this.chunk = more(this.chunk);
    this.start = more(this.start);
    this.len = more(this.len);
    this.keyLen = more(this.keyLen);
    this.part = more(this.part);
  }

  /**
   * Hand over the buffer as R key-sorted streams of line blocks (each partition sorted
   * when first read); the buffer starts afresh. Once every stream was read to its end,
   * the arena chunks are reused by the next fill. With `reuseBlocks` each partition's
   * blocks share one buffer: a block is valid only until the next one is asked for (for
   * a consumer that copies or decodes each block at once), sparing an allocation per
   * block (external memory that makes V8 run full GCs).
   */
  take(opts: { reuseBlocks?: boolean } = {}): AsyncIterable<ByteLines>[] {
    const n = this.n;
    const safe = !this.unsafe;
    const chunks = this.chunks;
    const records: RecordRanges = {
      chunks,
      chunk: this.chunk.subarray(0, n),
      start: this.start.subarray(0, n),
      cmpLen: safe ? this.len.subarray(0, n) : this.keyLen.subarray(0, n),
    };
    const len = this.len;
    // Record indexes by partition, in arrival order (a counting pass).
    const offsets = new Uint32Array(this.R + 1);
    const part = this.part;
    for (let i = 0; i < n; i++) offsets[part[i]! + 1]!++;
    for (let r = 0; r < this.R; r++) offsets[r + 1]! += offsets[r]!;
    const byPart = new Uint32Array(n);
    const fill = offsets.slice(0, this.R);
    for (let i = 0; i < n; i++) byPart[fill[part[i]!]!++] = i;
    this.chunks = [];
    this.used = 0;
    this.n = 0;
    this.bytes = 0;
    this.unsafe = false;
    // Fresh index arrays while the taken ones are read; once they were read (before the next
    // fill, as the sorter awaits its spill) the taken ones come back instead of growing anew.
    const taken = [this.chunk, this.start, this.len, this.keyLen, this.part] as const;
    this.chunk = new Uint32Array(1024);
    this.start = new Uint32Array(1024);
    this.len = new Uint32Array(1024);
    this.keyLen = new Uint32Array(1024);
    this.part = new Uint32Array(1024);
    let pending = this.R;
    const done = () => {
      if (--pending > 0) return;
      for (const c of chunks) if (c.length === CHUNK_BYTES) this.pool.push(c);
      if (this.n === 0 && this.chunk.length < taken[0].length) [this.chunk, this.start, this.len, this.keyLen, this.part] = taken;
    };
    return Array.from({ length: this.R }, (_, r) =>
      sortedBlocks(records, len, byPart.subarray(offsets[r]!, offsets[r + 1]!), opts.reuseBlocks ?? false, done),
    );
  }
}

/** How many '\n' bytes a block holds: its records, when it is whole lines. */
export function countLines(block: Buffer): number {
  let n = 0;
  for (let i = block.indexOf(NL); i >= 0; i = block.indexOf(NL, i + 1)) n++;
  return n;
}

/** The partition of key `buf[from..to)`: the number of split points ≤ key (as `totalOrderPartition`). */
function routeByPoints(points: readonly Buffer[], buf: Buffer, from: number, to: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(points[mid]!, buf, from, to) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Unsigned byte order of `a` against `buf[from..to)` (a loop: Buffer#compare's checks cost more on short keys). */
function compareBytes(a: Buffer, buf: Buffer, from: number, to: number): number {
  const lb = to - from;
  const n = a.length < lb ? a.length : lb;
  for (let i = 0; i < n; i++) {
    const d = a[i]! - buf[from + i]!;
    if (d !== 0) return d;
  }
  return a.length - lb;
}

/** One partition's records, sorted when first read, copied into blocks of whole lines. */
async function* sortedBlocks(
  r: RecordRanges,
  len: Uint32Array,
  idx: Uint32Array,
  reuse: boolean,
  done: () => void,
): AsyncIterable<ByteLines> {
  sortRecordIndexes(r, idx);
  if (idx.length === 0) {
    done();
    return;
  }
  let out = Buffer.allocUnsafe(BLOCK_BYTES);
  let used = 0;
  let lines = 0;
  for (let i = 0; i < idx.length; i++) {
    const rec = idx[i]!;
    const s = r.start[rec]!;
    const n = len[rec]! + 1;
    if (used + n > out.length) {
      if (used > 0) yield { bytes: out.subarray(0, used), lines };
      if (!reuse || n > out.length) out = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, n));
      used = 0;
      lines = 0;
    }
    // The gather from random places in the arena is this loop's cost (cache misses), not the copy.
    used += r.chunks[r.chunk[rec]!]!.copy(out, used, s, s + n);
    lines++;
  }
  if (used > 0) yield { bytes: out.subarray(0, used), lines };
  done();
}
