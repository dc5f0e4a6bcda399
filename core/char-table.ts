/**
 * A set of strings held as bytes in one arena, each with one int32 `ref` the caller
 * owns (a count, or an index of its own): the table behind the map-side aggregator's
 * emitted keys (worker/repeat-aggregator.ts).
 *
 * Why not StringTable (./string-table.ts) plus a `refs` array: a lookup there reads the
 * bucket, then `keys[slot]`, then that string, then `refs[slot]`: four places in memory,
 * each a cache miss once the table outgrows the cache (a word count over a 1M-word
 * vocabulary holds ~505 k distinct keys per 32 MiB split). Here the bucket holds the hash,
 * the key's place in the arena and the ref, so a hit reads the bucket and the arena only.
 * And the keys are no JS strings: ~0.5 M fewer objects for the collector to copy and
 * promote per window (docs/performance.md, "Where the time goes").
 *
 * A string whose chars are all latin1 (<= 0xff, e.g. ASCII) takes one byte per char and
 * is read back with a latin1 decode; any other takes two bytes per char (UTF-16LE), its
 * length stored negated. Open addressing with linear probing, at most half full, the
 * same salted and mixed FNV-1a hash as StringTable.
 *
 * The strings are read back in bucket order (`nextEntry`), not in insertion order: walking
 * the buckets reads the table front to back, while visiting keys in insertion order
 * jumped to a random bucket per key (a cache miss each: 85 ms per 505 k keys). Bucket
 * order depends on the table's random salt; the aggregator's output goes to a stable sort
 * by key, where it makes no difference (docs/performance.md).
 */
import { hashFinish, hashStart, hashStep } from './string-table.js';

const INITIAL_CAPACITY = 1 << 12;

/** Node's Buffer method behind `toString('latin1', start, end)`. */
type Latin1Slicer = Buffer & { latin1Slice(start: number, end: number): string };
/** Int32s per bucket: hash, start + 1 (0 marks an empty bucket), length (negated for a two-byte string), ref. */
const STRIDE = 4;

/** A set of strings with an int32 ref each; see the module comment. */
export class CharTable {
  private table = new Int32Array(STRIDE * INITIAL_CAPACITY);
  private mask = INITIAL_CAPACITY - 1;
  private arena = Buffer.allocUnsafeSlow(64 * 1024);
  private used = 0;
  private count = 0;
  private readonly salt = (Math.random() * 0x100000000) | 0;

  /** Number of strings held. */
  get size(): number {
    return this.count;
  }

  /** The entry of `s` (for `ref` / `setRef`), or -1 when it is not held. Entries move when the table grows (`add`). */
  find(s: string): number {
    const n = s.length;
    let h = hashStart(this.salt);
    let or = 0;
    for (let j = 0; j < n; j++) {
      const c = s.charCodeAt(j);
      or |= c;
      h = hashStep(h, c);
    }
    h = hashFinish(h);
    const len = or > 0xff ? -n : n;
    const table = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = STRIDE * i;
      const start1 = table[e + 1]!;
      if (start1 === 0) return -1;
      if (table[e] === h && table[e + 2] === len && this.same(s, start1 - 1, len < 0)) return e;
    }
  }

  /** Add `s`, which must not be held, with its ref. */
  add(s: string, ref: number): void {
    const n = s.length;
    // Room for two bytes per char: the string may turn out wide.
    if (this.used + 2 * n > this.arena.length) {
      const bigger = Buffer.allocUnsafeSlow(Math.max(this.used + 2 * n, 2 * this.arena.length));
      this.arena.copy(bigger, 0, 0, this.used);
      this.arena = bigger;
    }
    const arena = this.arena;
    const start = this.used;
    let h = hashStart(this.salt);
    let or = 0;
    // Written as latin1 on the way (a short key: a loop beats Buffer#write's call).
    for (let j = 0; j < n; j++) {
      const c = s.charCodeAt(j);
      or |= c;
      arena[start + j] = c;
      h = hashStep(h, c);
    }
    const wide = or > 0xff;
    if (wide) arena.write(s, start, 'utf16le');
    this.used += wide ? 2 * n : n;
    this.count++;
    this.place(hashFinish(h), start, wide ? -n : n, ref);
    if (2 * this.count > this.mask + 1) this.grow();
  }

  ref(entry: number): number {
    return this.table[entry + 3]!;
  }

  setRef(entry: number, ref: number): void {
    this.table[entry + 3] = ref;
  }

  /** The next entry after `entry` in bucket order (-1: the first), or -1 after the last. */
  nextEntry(entry: number): number {
    const table = this.table;
    for (let e = entry < 0 ? 0 : entry + STRIDE; e < table.length; e += STRIDE) if (table[e + 1] !== 0) return e;
    return -1;
  }

  /** The string of an entry (a fresh flat string). */
  keyOf(e: number): string {
    const start = this.table[e + 1]! - 1;
    const len = this.table[e + 2]!;
    // latin1Slice: Buffer#toString('latin1') without its argument checks (a third of the flush).
    return len >= 0 ? (this.arena as Latin1Slicer).latin1Slice(start, start + len) : this.arena.toString('utf16le', start, start - 2 * len);
  }

  private same(s: string, start: number, wide: boolean): boolean {
    const arena = this.arena;
    const n = s.length;
    if (!wide) {
      for (let j = 0; j < n; j++) if (arena[start + j] !== s.charCodeAt(j)) return false;
      return true;
    }
    for (let j = 0, k = start; j < n; j++, k += 2) if ((arena[k]! | (arena[k + 1]! << 8)) !== s.charCodeAt(j)) return false;
    return true;
  }

  private place(h: number, start: number, len: number, ref: number): void {
    const table = this.table;
    const mask = this.mask;
    let i = h & mask;
    while (table[STRIDE * i + 1] !== 0) i = (i + 1) & mask;
    const e = STRIDE * i;
    table[e] = h;
    table[e + 1] = start + 1;
    table[e + 2] = len;
    table[e + 3] = ref;
  }

  private grow(): void {
    const old = this.table;
    this.mask = 2 * (this.mask + 1) - 1;
    this.table = new Int32Array(STRIDE * (this.mask + 1));
    for (let e = 0; e < old.length; e += STRIDE) {
      if (old[e + 1] !== 0) this.place(old[e]!, old[e + 1]! - 1, old[e + 2]!, old[e + 3]!);
    }
  }
}
