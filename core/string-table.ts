/**
 * A set of strings numbered in insertion order (slot 0, 1, 2, ...): the table behind
 * counting repeated records (core/sort-buffer.ts, worker/repeat-aggregator.ts).
 *
 * Why not a `Map<string, number>`: counting looks up every map output record, most of
 * them fresh strings cut from a chunk, in a table that holds up to hundreds of
 * thousands of distinct records (a word count over a 1M-word vocabulary: 338 k distinct
 * words in a 16 MiB split). Measured on those 1.97 M records, a Map took 0.9-1.1 s and
 * this table 0.48-0.58 s; on a 50k-word vocabulary 0.58-0.78 s against 0.39-0.43 s
 * (docs/performance.md, "Counting repeats in a string table"). The Map's lookup touches its
 * bucket array, its entry, the stored key and then the caller's tally; here one
 * Int32Array probe holds the hash and the slot, so a miss costs no string compare and a
 * hit one compare.
 *
 * Open addressing with linear probing, at most half full. The hash multiplies in two char
 * codes at a time (`hashPairStep`), salted per table and mixed (so that equal low bits of many keys do not
 * line up probes, and input crafted against one table does not fit another).
 */
import { FNV_OFFSET } from './partition.js';

const INITIAL_CAPACITY = 1 << 12;

/** The hash of the tables here, in ./char-table.ts and ./byte-line-counter.ts: salted per table... */
export function hashStart(salt: number): number {
  return FNV_OFFSET ^ salt;
}

/**
 * ...two char codes (or bytes) at a time (`pair` = the first | the second << 16, or a last
 * odd one alone), the step of the tables here, in ./char-table.ts and ./byte-line-counter.ts
 * (which hashed one byte per multiply before: TeraSort's 100-byte lines were a chain of 100
 * dependent multiplies each in the repeat probe): one multiply per two chars halves the
 * chain of dependent multiplies that hashing a short key is (a word count hashes every word
 * it emits: −12 % of the aggregator's emit path on English, 2026-11-28, docs/performance.md). The rotation carries the high bits, where the second char lands,
 * back into the low ones before the next multiply; `hashFinish` mixes the rest.
 */
export function hashPairStep(h: number, pair: number): number {
  return Math.imul(((h << 5) | (h >>> 27)) ^ pair, 0x9e3779b1);
}

/** ...and the high bits mixed into the low ones a mask keeps (murmur3's finalizer, shortened). */
export function hashFinish(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  return h ^ (h >>> 13);
}

/** Strings ↔ dense slots in insertion order; see the module comment. */
export class StringTable {
  /** The strings, by slot. Read only for callers. */
  readonly keys: string[] = [];
  /** Pairs [hash, slot + 1] per bucket; slot + 1 = 0 marks an empty bucket. */
  private table: Int32Array;
  private mask: number;
  private readonly salt = (Math.random() * 0x100000000) | 0;

  constructor(capacity = INITIAL_CAPACITY) {
    let cap = INITIAL_CAPACITY;
    while (cap < 2 * capacity) cap *= 2;
    this.table = new Int32Array(2 * cap);
    this.mask = cap - 1;
  }

  /** Number of strings held. */
  get size(): number {
    return this.keys.length;
  }

  /**
   * The slot of `s`, adding it (as slot `size`) when absent: a result equal to the
   * size before the call means `s` was new. A new string is kept as `keep(s)` when
   * given (e.g. a detached copy, core/records.ts), which must equal `s`.
   */
  add(s: string, keep?: (s: string) => string): number {
    const h = this.hash(s);
    const table = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = table[2 * i + 1]! - 1;
      if (slot < 0) {
        const added = this.keys.length;
        table[2 * i] = h;
        table[2 * i + 1] = added + 1;
        this.keys.push(keep ? keep(s) : s);
        if (2 * this.keys.length > mask + 1) this.grow();
        return added;
      }
      if (table[2 * i] === h && this.keys[slot] === s) return slot;
    }
  }

  /** The slot of `s`, or -1 when it is not held. */
  find(s: string): number {
    const h = this.hash(s);
    const table = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const slot = table[2 * i + 1]! - 1;
      if (slot < 0) return -1;
      if (table[2 * i] === h && this.keys[slot] === s) return slot;
    }
  }

  private hash(s: string): number {
    let h = hashStart(this.salt);
    const n = s.length;
    let j = 0;
    for (; j + 1 < n; j += 2) h = hashPairStep(h, s.charCodeAt(j) | (s.charCodeAt(j + 1) << 16));
    if (j < n) h = hashPairStep(h, s.charCodeAt(j));
    return hashFinish(h);
  }

  private grow(): void {
    const old = this.table;
    const cap = 2 * (this.mask + 1);
    const mask = cap - 1;
    const table = new Int32Array(2 * cap);
    for (let k = 0; k < old.length; k += 2) {
      const slot1 = old[k + 1]!;
      if (slot1 === 0) continue;
      const h = old[k]!;
      let i = h & mask;
      while (table[2 * i + 1] !== 0) i = (i + 1) & mask;
      table[2 * i] = h;
      table[2 * i + 1] = slot1;
    }
    this.table = table;
    this.mask = mask;
  }
}
