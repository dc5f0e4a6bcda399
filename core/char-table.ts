/**
 * A set of strings held as bytes in one arena, in insertion order, each with one int32
 * `ref` the caller owns (a count, or an index of its own): the table behind the map-side
 * aggregator's emitted keys (worker/repeat-aggregator.ts).
 *
 * Why not StringTable (./string-table.ts) plus a `refs` array: a lookup there reads the
 * bucket, then `keys[slot]`, then that string, then `refs[slot]`: four places in memory,
 * each a cache miss once the table outgrows the cache (a word count over a 1M-word
 * vocabulary holds ~505 k distinct keys per 32 MiB split). Here a bucket is 8 bytes (the
 * hash and where the string's record starts in the arena), and the record holds the
 * length, the ref and the chars together: a hit reads the bucket and one record. And the
 * keys are no JS strings: ~0.5 M fewer objects for the collector to copy and promote per
 * window (docs/performance.md, "Where the time goes").
 *
 * The records and how they are read back: ./char-records.ts (an entry is a record's
 * offset, stable while the table grows). This file is the hash index over them: open
 * addressing with linear probing, at most half full, the same salted and mixed hash as
 * StringTable (two chars per multiply, `hashPairStep`).
 */
import { hashFinish, hashPairStep, hashStart } from './string-table.js';
import { keepCharTableSpare, takeCharTableSpare } from './char-table-storage.js';
import { CharRecords, FIRST_ARENA_BYTES, HEADER, type Slicer } from './char-records.js';

const INITIAL_CAPACITY = 1 << 12;
/** The largest first capacity a size hint may ask for (buckets). */
const MAX_HINTED_CAPACITY = 1 << 22;
/** The largest first arena a size hint may ask for (bytes). */
const MAX_HINTED_ARENA_BYTES = 256 * 1024 * 1024;
/** A hinted arena is this much bigger than the hint: the next window of an attempt may hold a few more keys. */
const ARENA_SLACK = 1.25;
/** Hashes `touch` takes at most at once. */
export const TOUCH_MAX = 256;

/** A set of strings with an int32 ref each; see the module comment. */
export class CharTable extends CharRecords {
  /** Pairs [hash, record offset + 1] per bucket; 0 marks an empty bucket. */
  private table: Int32Array;
  private mask: number;
  private count = 0;
  /** Set by `hashOf`: the string it hashed has a char above 0xff. */
  private wide = false;
  /** Set by `hash`: the string it hashed has a char above 0xff, a '\n'. */
  hashedWide = false;
  hashedNewline = false;
  /** `touch`'s first buckets' contents, and what it read (see there). */
  private readonly touched = new Int32Array(TOUCH_MAX);
  private touchedSum = 0;
  private readonly salt = (Math.random() * 0x100000000) | 0;
  /**
   * The last string `find` missed, its hash, width and the empty bucket it stopped at: `add`
   * of that string right after (a first sighting) neither hashes nor probes again.
   */
  private missed: string | undefined;
  private missedHash = 0;
  private missedWide = false;
  private missedBucket = 0;

  /**
   * @param expectedSize strings the table will likely hold (e.g. the last window's count):
   *   the table starts big enough for them instead of doubling up from 4 k buckets (a
   *   rehash of every string each time).
   * @param expectedBytes arena bytes its records will likely take (e.g. the last window's
   *   `recordBytes`): without spare storage the arena starts that big (with slack) instead of
   *   doubling up from 64 KiB, a copy of every record each time (~16 MiB of records per 32 MiB
   *   split of a 1M-word vocabulary: 8 copies in the first map attempt after a reduce, which
   *   lets the spare go). Pages not written to take no memory.
   */
  constructor(expectedSize = 0, expectedBytes = 0) {
    super();
    let capacity = INITIAL_CAPACITY;
    while (capacity < 2 * expectedSize && capacity < MAX_HINTED_CAPACITY) capacity *= 2;
    // The storage of the last table that was done, when it fits (./char-table-storage.ts).
    const s = takeCharTableSpare(capacity);
    if (s) {
      s.table.fill(0);
      this.table = s.table;
      this.useArena(s.arena as Slicer);
    } else {
      this.table = new Int32Array(2 * capacity);
      const arena = Math.min(MAX_HINTED_ARENA_BYTES, Math.ceil(expectedBytes * ARENA_SLACK));
      if (arena > FIRST_ARENA_BYTES) this.useArena(Buffer.allocUnsafeSlow(arena) as Slicer);
    }
    this.mask = this.table.length / 2 - 1;
  }

  /**
   * Done with the table: its storage is kept for the next table made in this process, and
   * this one is left empty (fresh small storage). Strings read from it (`keyOf`) are copies
   * and stay valid.
   */
  release(): void {
    keepCharTableSpare({ table: this.table, arena: this.arena });
    this.table = new Int32Array(2 * INITIAL_CAPACITY);
    this.mask = INITIAL_CAPACITY - 1;
    this.useArena(Buffer.allocUnsafeSlow(FIRST_ARENA_BYTES) as Slicer);
    this.used = 0;
    this.count = 0;
    this.missed = undefined;
  }

  /** Number of strings held. */
  get size(): number {
    return this.count;
  }

  /** The entry of `s` (for `ref` / `setRef` / `keyOf`), or -1 when it is not held. */
  find(s: string): number {
    const h = this.hashOf(s);
    return this.findHashed(s, h, this.wide);
  }

  /**
   * The hash `find` would compute for `s`, for a later `findHashed` on this table; also
   * tells whether `s` has a char above 0xff (`hashedWide`) or a '\n' (`hashedNewline`).
   */
  hash(s: string): number {
    let h = hashStart(this.salt);
    let or = 0;
    let newline = false;
    const n = s.length;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const c = s.charCodeAt(j);
      const d = s.charCodeAt(j + 1);
      or |= c | d;
      if (c === 0x0a || d === 0x0a) newline = true;
      h = hashPairStep(h, c | (d << 16));
    }
    if (j < n) {
      const c = s.charCodeAt(j);
      or |= c;
      if (c === 0x0a) newline = true;
      h = hashPairStep(h, c);
    }
    this.hashedWide = or > 0xff;
    this.hashedNewline = newline;
    return hashFinish(h);
  }

  /** `find` of a string whose `hash` (and width) this table gave. */
  findHashed(s: string, h: number, wide: boolean): number {
    const len = wide ? -s.length : s.length;
    const table = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const at1 = table[2 * i + 1]!;
      if (at1 === 0) {
        this.missed = s;
        this.missedHash = h;
        this.missedWide = wide;
        this.missedBucket = i;
        return -1;
      }
      if (table[2 * i] === h && this.words[(at1 - 1) >> 2] === len && this.same(s, at1 - 1 + HEADER, wide)) return at1 - 1;
    }
  }

  /**
   * Read, for each of the first `n` hashes, its first bucket and the record it points to,
   * and nothing else: the loads of a loop that neither compares nor branches on them run
   * side by side (the core keeps many cache misses in flight), so the `findHashed` calls
   * that follow find those places in the cache. Looked up one after the other, each key of
   * a large table waited for two misses in turn (docs/performance.md, "Looking keys up in
   * batches").
   */
  touch(hashes: Int32Array, n: number): void {
    const table = this.table;
    const words = this.words;
    const mask = this.mask;
    const at1s = this.touched;
    for (let k = 0; k < n; k++) at1s[k] = table[2 * (hashes[k]! & mask) + 1]!;
    let acc = 0;
    for (let k = 0; k < n; k++) {
      const at1 = at1s[k]!;
      if (at1 !== 0) acc ^= words[(at1 - 1) >> 2]!;
    }
    // Kept, so that the compiler does not drop the loads.
    this.touchedSum ^= acc;
  }

  /** Add `s`, which must not be held, with its ref. */
  add(s: string, ref: number): void {
    // Just missed by `find` (nothing was added since): its hash and empty bucket hold.
    const known = s === this.missed;
    this.missed = undefined;
    const h = known ? this.missedHash : this.hashOf(s);
    const at = this.append(s, known ? this.missedWide : this.wide, ref);
    this.count++;
    if (known) {
      this.table[2 * this.missedBucket] = h;
      this.table[2 * this.missedBucket + 1] = at + 1;
    } else this.place(h, at);
    if (2 * this.count > this.mask + 1) this.grow();
  }

  /** The hash of `s` (as `hash`, without the newline test); sets `wide` (a char above 0xff). */
  private hashOf(s: string): number {
    let h = hashStart(this.salt);
    let or = 0;
    const n = s.length;
    let j = 0;
    for (; j + 1 < n; j += 2) {
      const c = s.charCodeAt(j);
      const d = s.charCodeAt(j + 1);
      or |= c | d;
      h = hashPairStep(h, c | (d << 16));
    }
    if (j < n) {
      const c = s.charCodeAt(j);
      or |= c;
      h = hashPairStep(h, c);
    }
    this.wide = or > 0xff;
    return hashFinish(h);
  }


  private place(h: number, at: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (table[2 * i + 1] !== 0) i = (i + 1) & mask;
    table[2 * i] = h;
    table[2 * i + 1] = at + 1;
  }

  private grow(): void {
    const old = this.table;
    this.mask = 2 * (this.mask + 1) - 1;
    this.table = new Int32Array(2 * (this.mask + 1));
    for (let k = 0; k < old.length; k += 2) if (old[k + 1] !== 0) this.place(old[k]!, old[k + 1]! - 1);
  }
}
