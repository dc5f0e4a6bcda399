/**
 * The counting mode of the map-side sort buffer on bytes: while an executable's output
 * lines repeat (a word count mapper's `the\t1`, a log aggregation's `status=500\t1`),
 * each distinct line is held once, in an arena, with its number of copies, and only the
 * distinct lines are partitioned and sorted; each is written as many times as it came.
 * The same output as the string `SortBuffer`'s counting mode (core/sort-buffer.ts), which
 * still serves line strings (a module mapper), without making a string of every line:
 * the mapper's stdout blocks are hashed and compared as bytes (salted per table, two bytes
 * per multiply, as core/string-table.ts, whose hash it shares), the expansion is native copies of the
 * arena. Whether counting pays is the shared policy of core/repeats.ts; when it does not,
 * the caller moves the counted lines (`expanded()`) to the byte sort buffer.
 */
import { BLOCK_BYTES } from './byte-merge.js';
import type { ByteLines } from './byte-sort-buffer.js';
import { recordsByPartition } from './byte-sort-partitions.js';
import { routeByPoints } from './route-by-points.js';
import type { RecordRanges } from './byte-sort.js';
import { MAX_RECORD_COUNT } from './counted-lines.js';
import { FNV_OFFSET, FNV_PRIME } from './partition.js';
import { EARLY_JUDGE_RECORDS, REPEAT_PROBE_RECORDS, repeatsPayOff } from './repeats.js';
import { sortedLineBlocks } from './sorted-line-blocks.js';
import { hashFinish, hashPairStep, hashStart } from './string-table.js';

const NL = 0x0a;
const TAB = 0x09;
/** Estimated bytes per distinct line besides its bytes: 5 index entries, 2 table pairs and slack. */
const DISTINCT_OVERHEAD = 48;
/** Lines shorter than this are copied into the arena by a loop (a native copy's call costs more). */
const SHORT_LINE = 32;
/**
 * The arena's first size past its scratch: a probe of lines that never repeat holds 2,048 of
 * them (core/repeats.ts; ~200 KB of TeraSort's), and a mebibyte allocated per map attempt (and
 * another after the hand-over) was external memory that brings V8's full collections sooner.
 */
const FIRST_ARENA_BYTES = 256 * 1024;
/** The arena of a counter whose counting stopped: nothing, until (if ever) it takes lines again. */
const NO_ARENA = Buffer.alloc(0);
const FIRST_TABLE = 1 << 12;
/**
 * How much the arena, the index arrays and the table grow at a time: by 4, the probe of
 * core/repeats.ts (6.6 MB of TeraSort's records) reaches its size in 3 steps instead of 6,
 * half the copies and rehashing (~11 ms of a map's ~42, doubling). Untouched pages cost nothing.
 */
const GROWTH = 4;

/** Distinct '\n'-ended lines with their counts; see the module comment. */
export class ByteLineCounter {
  /** Estimated bytes held (distinct lines plus per-line overhead). */
  bytes = 0;
  /** False once repeats stopped paying (for the rest of the attempt). */
  counting = true;
  /** The distinct lines, each with its '\n', from [BLOCK_BYTES, used); [0, BLOCK_BYTES) is the output scratch. */
  private arena = Buffer.allocUnsafe(BLOCK_BYTES + FIRST_ARENA_BYTES);
  private used = BLOCK_BYTES;
  private n = 0;
  private start = new Uint32Array(1024);
  /** Line length without its '\n'. */
  private len = new Uint32Array(1024);
  private tally = new Uint32Array(1024);
  /** Pairs [hash, slot + 1] per bucket; 0 marks an empty bucket. At most half full. */
  private table = new Int32Array(2 * FIRST_TABLE);
  private mask = FIRST_TABLE - 1;
  private readonly salt = (Math.random() * 0x100000000) | 0;
  /** Lines taken since the window started. */
  private seen = 0;
  /**
   * The window's next line count at which `add` judges the probe between two lines (doubling
   * from EARLY_JUDGE_RECORDS): a block of a megabyte holds 10 k TeraSort lines, and records
   * that never repeat are judged hopeless at 2,048 (core/repeats.ts).
   */
  private judgeAt = EARLY_JUDGE_RECORDS;
  /** Lines `add` took, over every window: the caller's record count without a second scan. */
  linesTaken = 0;
  private readonly R: number;
  /** Total order: keys routed by these split points (latin1 bytes) instead of hashed. */
  private readonly points: Buffer[] | undefined;

  constructor(numPartitions: number, splitPoints?: readonly string[]) {
    if (!Number.isInteger(numPartitions) || numPartitions < 1) {
      throw new RangeError(`numPartitions must be a positive integer, got ${numPartitions}`);
    }
    if (splitPoints && splitPoints.length >= numPartitions) {
      throw new RangeError(`${splitPoints.length} split points need more than ${numPartitions} partitions`);
    }
    this.R = numPartitions;
    this.points = splitPoints?.map((p) => Buffer.from(p, 'latin1'));
  }

  get isEmpty(): boolean {
    return this.n === 0;
  }

  /**
   * Count the lines of `block[from..]` (whole '\n'-ended lines) until a new distinct line
   * brings the estimate past `limitBytes`; returns the offset after the last line taken
   * (block.length when all were). Then judges whether counting still pays (`counting`).
   */
  add(block: Buffer, from: number, limitBytes: number): number {
    if (block.length > from && block[block.length - 1] !== NL) throw new RangeError('ByteLineCounter.add: the block must end with a newline');
    const end = block.length;
    // While most lines were distinct (a sort's probe), the block goes into the arena at once,
    // not by a Buffer#copy call per line: a new line is then in place, or moved down over
    // repeated lines' bytes (`insert`). Lines that mostly repeat are copied one by one.
    const bulk = 2 * this.n > this.seen;
    if (bulk) {
      if (this.used + end - from > this.arena.length) this.growArena(this.used + end - from);
      block.copy(this.arena, this.used, from, end);
    }
    const src = bulk ? this.arena : block;
    const shift = bulk ? this.used - from : 0;
    const salt = hashStart(this.salt);
    let bytes = this.bytes;
    let p = from;
    let lines = 0;
    let judgeAt = this.judgeAt - this.seen;
    while (p < end) {
      if (lines === judgeAt) {
        if (this.judgedHopeless(lines)) break;
        judgeAt = this.judgeAt - this.seen;
      }
      let h = salt;
      let k = p;
      // Two bytes per multiply (see `hashPairStep`); the block ends with '\n', so k + 1 is in it.
      for (;;) {
        const c = block[k]!;
        if (c === NL) break;
        const d = block[k + 1]!;
        if (d === NL) {
          h = hashPairStep(h, c);
          k++;
          break;
        }
        h = hashPairStep(h, c | (d << 16));
        k += 2;
      }
      const hf = hashFinish(h);
      const length = k - p;
      lines++;
      const slot = this.find(hf, block, p, length);
      if (slot >= 0) {
        p = k + 1;
        // A full tally (2^32 - 1 copies) ends the window as a full buffer does.
        if (++this.tally[slot]! === MAX_RECORD_COUNT) {
          bytes = Math.max(bytes, limitBytes + 1);
          break;
        }
        continue;
      }
      this.insert(hf, src, p + shift, length);
      bytes += length + 1 + DISTINCT_OVERHEAD;
      p = k + 1;
      if (bytes > limitBytes) break;
    }
    this.bytes = bytes;
    this.seen += lines;
    this.linesTaken += lines;
    if (!repeatsPayOff(this.seen, this.n)) this.counting = false;
    return p;
  }

  /**
   * The probe judged between two lines of `add` (`lines` taken so far by this call): false
   * while counting still may pay off (the next judgment then comes at twice the lines).
   */
  private judgedHopeless(lines: number): boolean {
    const seen = this.seen + lines;
    if (repeatsPayOff(seen, this.n)) {
      this.judgeAt = seen < REPEAT_PROBE_RECORDS ? 2 * seen : Infinity;
      return false;
    }
    this.counting = false;
    return true;
  }

  /** The slot of line block[p, p + length), or -1; a hit is a hash match and equal bytes. */
  private find(hf: number, block: Buffer, p: number, length: number): number {
    const table = this.table;
    const mask = this.mask;
    const arena = this.arena;
    for (let i = hf & mask; ; i = (i + 1) & mask) {
      const slot = table[2 * i + 1]! - 1;
      if (slot < 0) return -1;
      if (table[2 * i] !== hf || this.len[slot] !== length) continue;
      const s = this.start[slot]!;
      let j = 0;
      while (j < length && arena[s + j] === block[p + j]) j++;
      if (j === length) return slot;
    }
  }

  /** Hold `src[s, s + length]` (and its '\n') as a new line: from a block, or its copy in the arena (`add`). */
  private insert(hf: number, src: Buffer, s: number, length: number): void {
    if (this.used + length + 1 > this.arena.length) this.growArena(this.used + length + 1);
    const at = this.used;
    const arena = this.arena;
    // In the arena, at <= s: a forward byte loop is safe; in place, nothing to move.
    if (src !== arena || at !== s) {
      if (length < SHORT_LINE) for (let j = 0; j <= length; j++) arena[at + j] = src[s + j]!;
      else if (src === arena) arena.copyWithin(at, s, s + length + 1);
      else src.copy(arena, at, s, s + length + 1);
    }
    this.used = at + length + 1;
    if (this.n === this.start.length) this.growIndex();
    const slot = this.n++;
    this.start[slot] = at;
    this.len[slot] = length;
    this.tally[slot] = 1;
    const mask = this.mask;
    let i = hf & mask;
    while (this.table[2 * i + 1] !== 0) i = (i + 1) & mask;
    this.table[2 * i] = hf;
    this.table[2 * i + 1] = slot + 1;
    if (2 * this.n > mask + 1) this.growTable();
  }

  private growArena(need: number): void {
    const bigger = Buffer.allocUnsafe(Math.max(need, BLOCK_BYTES + Math.max(FIRST_ARENA_BYTES, GROWTH * (this.arena.length - BLOCK_BYTES))));
    if (this.used > BLOCK_BYTES) this.arena.copy(bigger, BLOCK_BYTES, BLOCK_BYTES, this.used);
    this.arena = bigger;
  }

  private growIndex(): void {
    const more = (a: Uint32Array) => {
      const b = new Uint32Array(GROWTH * a.length);
      b.set(a);
      return b;
    };
    this.start = more(this.start);
    this.len = more(this.len);
    this.tally = more(this.tally);
  }

  private growTable(): void {
    const old = this.table;
    const cap = GROWTH * (this.mask + 1);
    const mask = cap - 1;
    const table = new Int32Array(2 * cap);
    for (let k = 0; k < old.length; k += 2) {
      if (old[k + 1] === 0) continue;
      let i = old[k]! & mask;
      while (table[2 * i + 1] !== 0) i = (i + 1) & mask;
      table[2 * i] = old[k]!;
      table[2 * i + 1] = old[k + 1]!;
    }
    this.table = table;
    this.mask = mask;
  }

  /**
   * The counted lines as the plain buffer would have held them (distinct lines in first-arrival
   * order, each as many times as it came), as one block of whole lines; the counter is emptied.
   */
  expanded(): Buffer {
    if (this.seen === this.n) {
      // No line repeated (the usual reason counting stopped): the arena holds the lines as
      // they came, one copy each; handed on as it is, the counter takes a fresh one (none
      // once counting stopped: its caller is done with it).
      const lines = this.arena.subarray(BLOCK_BYTES, this.used);
      this.arena = this.counting ? Buffer.allocUnsafe(BLOCK_BYTES + FIRST_ARENA_BYTES) : NO_ARENA;
      this.reset();
      return lines;
    }
    let size = 0;
    for (let i = 0; i < this.n; i++) size += (this.len[i]! + 1) * this.tally[i]!;
    const out = Buffer.allocUnsafe(size);
    let at = 0;
    for (let i = 0; i < this.n; i++) {
      const s = this.start[i]!;
      const line = this.len[i]! + 1;
      for (let c = this.tally[i]!; c > 0; c--) {
        this.arena.copy(out, at, s, s + line);
        at += line;
      }
    }
    this.reset();
    return out;
  }

  /**
   * Hand over the counted lines as R key-sorted streams of line blocks (each partition
   * sorted when first read), and judge the window (see core/repeats.ts). The arena is
   * handed on with them: the counter starts afresh. With `reuseBlocks` a partition's
   * blocks share one buffer, valid until the next block is asked for. With `counted` the
   * blocks are in the counted form (core/counted-lines.ts: each distinct line once, with its
   * count), else every copy is written.
   */
  take(opts: { reuseBlocks?: boolean; counted?: boolean } = {}): AsyncIterable<ByteLines>[] {
    const n = this.n;
    const { arena, start, len, tally } = this;
    if (!repeatsPayOff(this.seen, n, true)) this.counting = false;
    // Partition (FNV-1a of the key, as core/partition.ts, or the split points) and key length of each distinct line.
    const keyLen = new Uint32Array(n);
    const part = new Uint32Array(n);
    const hashed = this.points === undefined && this.R > 1;
    let unsafe = false;
    for (let i = 0; i < n; i++) {
      const s = start[i]!;
      const e = s + len[i]!;
      let h = FNV_OFFSET;
      let k = s;
      for (; k < e; k++) {
        const c = arena[k]!;
        if (c <= TAB) {
          if (c === TAB) break;
          unsafe = true;
        }
        if (hashed) h = Math.imul(h ^ c, FNV_PRIME);
      }
      keyLen[i] = k - s;
      part[i] = hashed ? (h >>> 0) % this.R : this.points ? routeByPoints(this.points, arena, s, k) : 0;
    }
    const { offsets, byPart } = recordsByPartition(part, n, this.R);
    // Whole-line order is key order unless a key byte is below '\t' (as the other buffers).
    const records: RecordRanges = { buf: arena, start: start.subarray(0, n), cmpLen: unsafe ? keyLen : len.subarray(0, n) };
    this.arena = Buffer.allocUnsafe(BLOCK_BYTES + FIRST_ARENA_BYTES);
    this.start = new Uint32Array(1024);
    this.len = new Uint32Array(1024);
    this.tally = new Uint32Array(1024);
    this.reset();
    const reuse = opts.reuseBlocks ?? false;
    const counted = opts.counted ?? false;
    return Array.from({ length: this.R }, (_, r) => sortedLineBlocks(records, len, byPart.subarray(offsets[r]!, offsets[r + 1]!), reuse, tally, counted));
  }

  private reset(): void {
    this.used = BLOCK_BYTES;
    this.n = 0;
    this.bytes = 0;
    this.seen = 0;
    this.judgeAt = EARLY_JUDGE_RECORDS;
    this.table = new Int32Array(2 * FIRST_TABLE);
    this.mask = FIRST_TABLE - 1;
  }
}
