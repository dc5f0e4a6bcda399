/**
 * Sorting records held as byte ranges (the byte sort buffer's arena, core/byte-sort-buffer.ts)
 * by index, without a string per record. The order is the string sort buffer's
 * (core/sort-buffer.ts, core/records.ts `sortByKey`) exactly:
 *
 * - when no key holds a byte below '\t' ("safe"), whole lines in unsigned byte order
 *   (then whole-line order is key order, and equal lines are interchangeable);
 * - otherwise keys (the bytes before the first tab, or the whole line) in unsigned
 *   byte order, equal keys in arrival order (the string path's stable index sort).
 *
 * How: LSD counting passes over the first 6 compared bytes (three 16-bit digits, a
 * missing byte as 0, which keeps prefix order consistent with byte order; a digit all
 * records share is skipped), each moving the prefix with its record, then a
 * comparison sort of each run of equal prefixes on the rest (insertion sort for small
 * runs). Ties are broken by index, so the result never depends on sort stability.
 */
import { Spare } from './spare.js';

/** Where the records are: record i is `buf[start[i] .. start[i] + cmpLen[i])` for comparing. */
export interface RecordRanges {
  readonly buf: Buffer;
  readonly start: Uint32Array;
  /** Bytes compared: the whole line without its '\n' (safe), or the key. */
  readonly cmpLen: Uint32Array;
  /**
   * The first 6 compared bytes of each record as three 16-bit digits (`prefixDigit`), by
   * record, when the buffer took them as the lines came (hot in cache): the sort then
   * does not read them from `buf`, where records of one partition lie scattered (a cache
   * miss each: ~130 ns a record, as much as the radix passes and the gather together).
   */
  readonly digits?: readonly [Uint16Array, Uint16Array, Uint16Array];
}

/** Digit `buf[at..at+2)` of a range ending at `end`: a byte past the end counts as 0. */
export function prefixDigit(buf: Buffer, at: number, end: number): number {
  return (at < end ? buf[at]! << 8 : 0) | (at + 1 < end ? buf[at + 1]! : 0);
}

/** Below this many records a comparison sort is as fast as the radix passes. */
const RADIX_MIN = 4096;
/** Runs of equal prefix up to this long are insertion-sorted. */
const INSERTION_MAX = 16;
const PREFIX = 6;

/** Compare records a and b: bytes from `from` on (the prefix before it is equal), then length, then index. */
function compareFrom(r: RecordRanges, a: number, b: number, from: number): number {
  const buf = r.buf;
  const sa = r.start[a]!;
  const sb = r.start[b]!;
  const la = r.cmpLen[a]!;
  const lb = r.cmpLen[b]!;
  const fa = from < la ? from : la;
  const fb = from < lb ? from : lb;
  // Buffer#compare is native: the source range (a) against the target range (b).
  const d = buf.compare(buf, sb + fb, sb + lb, sa + fa, sa + la);
  // Equal after `from`: the shorter one first (its missing bytes were padded as 0 in the prefix), then arrival.
  return d || la - lb || a - b;
}

/**
 * The radix passes' arrays, kept from one partition (and attempt) to the next: allocated per
 * partition they were ~18 bytes a record of fresh typed arrays each time (4.5 MB for 252 k
 * records), pages to fault in and zero, and external memory that starts V8 collections.
 * `a`/`b` hold record indexes, `ha`/`hb` the prefix's first 4 bytes, `la`/`lb` its last 2:
 * each pass moves the key with its record (sequential reads, no lookup by `order`).
 */
interface Scratch {
  a: Uint32Array;
  b: Uint32Array;
  ha: Uint32Array;
  hb: Uint32Array;
  la: Uint16Array;
  lb: Uint16Array;
}
const scratch = new Spare<Scratch>((s) => s.a.length);
/** The three digits' counts (65536 each), kept with the module: 768 KiB. */
let counts: Uint32Array | undefined;

function takeScratch(n: number): Scratch {
  const kept = scratch.take((s) => s.a.length >= n);
  if (kept) return kept;
  // A little slack, so partitions of about the same size share one allocation.
  const size = Math.ceil(n * 1.25);
  return {
    a: new Uint32Array(size),
    b: new Uint32Array(size),
    ha: new Uint32Array(size),
    hb: new Uint32Array(size),
    la: new Uint16Array(size),
    lb: new Uint16Array(size),
  };
}

/** Let go of the radix passes' kept arrays (core/byte-sort-storage.ts `releaseSpareSortStorage`). */
export function releaseSortScratch(): void {
  scratch.release();
  counts = undefined;
}

/**
 * Sort the record indexes `idx` (in arrival order) in place into the module's order.
 * `idx` may be a subarray.
 */
export function sortRecordIndexes(r: RecordRanges, idx: Uint32Array): Uint32Array {
  const n = idx.length;
  if (n < 2) return idx;
  if (n < RADIX_MIN) {
    if (n <= INSERTION_MAX) insertionSort(r, idx, 0, n, 0);
    else idx.sort((a, b) => compareFrom(r, a, b, 0));
    return idx;
  }
  const s = takeScratch(n);
  const c = (counts ??= new Uint32Array(3 * 65536));
  c.fill(0);
  let { a, b, ha, hb, la, lb } = s;
  // The 6-byte prefix of each record (4 bytes in `ha`, 2 in `la`), by position, and the
  // counts of all three digits in the same pass.
  if (r.digits) {
    const [d0, d1, d2] = r.digits;
    for (let i = 0; i < n; i++) {
      const rec = idx[i]!;
      const x = d0[rec]!;
      const y = d1[rec]!;
      const z = d2[rec]!;
      a[i] = rec;
      ha[i] = ((x << 16) | y) >>> 0;
      la[i] = z;
      c[x]!++;
      c[65536 + y]!++;
      c[131072 + z]!++;
    }
  } else {
    const { buf, start, cmpLen } = r;
    for (let i = 0; i < n; i++) {
      const rec = idx[i]!;
      const st = start[rec]!;
      const end = st + cmpLen[rec]!;
      const x = prefixDigit(buf, st, end);
      const y = prefixDigit(buf, st + 2, end);
      const z = prefixDigit(buf, st + 4, end);
      a[i] = rec;
      ha[i] = ((x << 16) | y) >>> 0;
      la[i] = z;
      c[x]!++;
      c[65536 + y]!++;
      c[131072 + z]!++;
    }
  }
  // LSD: the last digit, then the middle, then the first; each pass stable. A digit all
  // records share (text keys often share their first bytes) needs no pass.
  if (c[131072 + la[0]!] !== n) {
    startsOf(c, 131072);
    for (let i = 0; i < n; i++) {
      const z = la[i]!;
      const to = c[131072 + z]!++;
      b[to] = a[i]!;
      hb[to] = ha[i]!;
      lb[to] = z;
    }
    [a, b, ha, hb, la, lb] = [b, a, hb, ha, lb, la];
  }
  if (c[65536 + (ha[0]! & 0xffff)] !== n) {
    startsOf(c, 65536);
    for (let i = 0; i < n; i++) {
      const h = ha[i]!;
      const to = c[65536 + (h & 0xffff)]!++;
      b[to] = a[i]!;
      hb[to] = h;
      lb[to] = la[i]!;
    }
    [a, b, ha, hb, la, lb] = [b, a, hb, ha, lb, la];
  }
  if (c[ha[0]! >>> 16] !== n) {
    startsOf(c, 0);
    for (let i = 0; i < n; i++) {
      const h = ha[i]!;
      const to = c[h >>> 16]!++;
      b[to] = a[i]!;
      hb[to] = h;
      lb[to] = la[i]!;
    }
    [a, ha, la] = [b, hb, lb];
  }
  // Runs of equal prefix, sorted on the bytes after it.
  let from = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n && ha[i] === ha[from] && la[i] === la[from]) continue;
    if (i - from > 1) {
      if (i - from <= INSERTION_MAX) insertionSort(r, a, from, i, PREFIX);
      else a.subarray(from, i).sort((x, y) => compareFrom(r, x, y, PREFIX));
    }
    from = i;
  }
  idx.set(a.subarray(0, n));
  scratch.keep(s);
  return idx;
}

/** Counts of one digit (at `base` in `c`) into the first position of each digit value. */
function startsOf(c: Uint32Array, base: number): void {
  let sum = 0;
  for (let k = base; k < base + 65536; k++) {
    const t = c[k]!;
    c[k] = sum;
    sum += t;
  }
}

/**
 * The positions 0..n-1 ordered by three 16-bit digits (most significant first): LSD
 * counting passes, each stable, so equal digits keep position order. Shared with the
 * string sort's prefix passes (core/records.ts).
 */
export function orderByDigits(digits: readonly [Uint16Array, Uint16Array, Uint16Array]): Uint32Array {
  const n = digits[0].length;
  let order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  let next = new Uint32Array(n);
  const count = new Uint32Array(65537);
  for (let d = 2; d >= 0; d--) {
    const dg = digits[d];
    count.fill(0);
    for (let i = 0; i < n; i++) count[dg[i]! + 1]!++;
    for (let k = 0; k < 65536; k++) count[k + 1]! += count[k]!;
    for (let i = 0; i < n; i++) {
      const j = order[i]!;
      next[count[dg[j]!]!++] = j;
    }
    [order, next] = [next, order];
  }
  return order;
}

function insertionSort(r: RecordRanges, a: Uint32Array, from: number, to: number, skip: number): void {
  for (let i = from + 1; i < to; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= from && compareFrom(r, a[j]!, v, skip) > 0) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
}

/** Records ordered by their first 6 bytes (or latin1 chars), from `orderByDigits`. */
export interface PrefixOrder {
  /** Indexes into the records, in order of their 6-char prefix (stable). */
  readonly order: Uint32Array;
  /** The prefix digits by index (three 16-bit digits of 2 chars each). */
  readonly digits: readonly [Uint16Array, Uint16Array, Uint16Array];
}

/** Calls `run(from, to)` for each run of 2 or more equal prefixes in `p.order`. */
export function forEachPrefixRun(p: PrefixOrder, run: (from: number, to: number) => void): void {
  const { order } = p;
  const [d0, d1, d2] = p.digits;
  const n = order.length;
  let start = 0;
  for (let i = 1; i <= n; i++) {
    if (i < n) {
      const a = order[i]!;
      const b = order[start]!;
      if (d0[a] === d0[b] && d1[a] === d1[b] && d2[a] === d2[b]) continue;
    }
    if (i - start > 1) run(start, i);
    start = i;
  }
}
