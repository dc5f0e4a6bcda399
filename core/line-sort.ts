/**
 * Sorting batches of latin1 lines (core/records.ts) by key in byte order, as `LC_ALL=C sort`
 * would: the string sort behind the sort buffer (core/sort-buffer.ts). Split from
 * core/records.ts, which holds what a line is and how a byte stream becomes lines.
 */
import { forEachPrefixRun, orderByDigits, type PrefixOrder } from './byte-sort.js';
import { keyOf, TAB } from './records.js';

/**
 * True when sorting these lines as whole strings also sorts them by key: no key has a
 * byte below '\t'. (A key ends at '\t' or at the line's end, both then smaller than
 * any key byte, so a strictly smaller key always makes a smaller line.)
 */
export function wholeLineOrderIsKeyOrder(lines: readonly string[]): boolean {
  for (const line of lines) {
    for (let j = 0; j < line.length; j++) {
      const c = line.charCodeAt(j);
      if (c <= TAB) {
        if (c === TAB) break;
        return false;
      }
    }
  }
  return true;
}

/** Below this many lines the native sort is as fast as the radix pass. */
const RADIX_MIN_LINES = 4096;

/**
 * Sort lines by key in byte order; returns the sorted array (the input array may be
 * reused). Equal keys may come out in any order. When whole-line order is key order
 * (see wholeLineOrderIsKeyOrder; pass it if already known) lines are sorted as whole
 * strings: an LSD radix sort on their first 6 bytes, then V8's native sort inside each
 * group of equal prefix (measured ~2x faster than the native sort alone on 2M short
 * lines; a run of identical lines, e.g. a word count's `the\t1`, costs one comparison per
 * line). Otherwise keys are extracted once and indexes are sorted by key. Counting
 * repeated lines is the sort buffer's job (core/sort-buffer.ts, core/repeats.ts).
 */
export function sortByKey(
  lines: string[],
  opts: { wholeLineOrderIsKeyOrder?: boolean } = {},
): string[] {
  if (opts.wholeLineOrderIsKeyOrder ?? wholeLineOrderIsKeyOrder(lines)) {
    // No comparator: V8 compares strings by UTF-16 code unit, which is latin1 byte order.
    if (lines.length < RADIX_MIN_LINES) return lines.sort();
    return radixSortLines(lines) ?? lines.sort();
  }
  const keys = lines.map(keyOf);
  const order = Array.from({ length: lines.length }, (_, i) => i);
  order.sort((a, b) => {
    const x = keys[a]!;
    const y = keys[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return order.map((i) => lines[i]!);
}

/**
 * Counting-sort passes over three 16-bit digits (the first 6 chars, missing chars as 0,
 * which keeps prefix order consistent with string order). Undefined for strings with
 * chars above 0xFF (not latin1), for the caller to fall back.
 */
function prefixOrder(lines: readonly string[]): PrefixOrder | undefined {
  const n = lines.length;
  const digits = [new Uint16Array(n), new Uint16Array(n), new Uint16Array(n)] as const;
  let wide = 0;
  for (let i = 0; i < n; i++) {
    const s = lines[i]!;
    const len = s.length;
    for (let d = 0; d < 3; d++) {
      const hi = 2 * d < len ? s.charCodeAt(2 * d) : 0;
      const lo = 2 * d + 1 < len ? s.charCodeAt(2 * d + 1) : 0;
      wide |= hi | lo;
      digits[d][i] = (hi << 8) | lo;
    }
  }
  if (wide > 0xff) return undefined;
  return { order: orderByDigits(digits), digits };
}


/**
 * Sort latin1 strings in byte order: the radix passes of prefixOrder, then the native
 * sort within each run of equal prefix. Undefined for strings that are not latin1.
 */
function radixSortLines(lines: string[]): string[] | undefined {
  const p = prefixOrder(lines);
  if (!p) return undefined;
  const n = lines.length;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = lines[p.order[i]!]!;
  forEachPrefixRun(p, (start, i) => {
    if (i - start > 16) {
      if (!allEqual(out, start, i)) {
        const run = out.slice(start, i).sort();
        for (let k = 0; k < run.length; k++) out[start + k] = run[k]!;
      }
    } else {
      insertionSort(out, start, i);
    }
  });
  return out;
}

/**
 * The order of `lines` sorted by key in byte order: indexes into `lines`, for a caller
 * that sorts something alongside the lines (the sort buffer's counts of repeated lines).
 * Equal keys may come in any order. The same ways as sortByKey (radix passes on the
 * first 6 bytes when whole-line order is key order), with the runs of equal prefix
 * sorted as indexes.
 */
export function sortOrderByKey(lines: readonly string[], opts: { wholeLineOrderIsKeyOrder?: boolean } = {}): Uint32Array {
  const n = lines.length;
  const byLine = (a: number, b: number) => {
    const x = lines[a]!;
    const y = lines[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  };
  if (opts.wholeLineOrderIsKeyOrder ?? wholeLineOrderIsKeyOrder(lines)) {
    const p = n >= RADIX_MIN_LINES ? prefixOrder(lines) : undefined;
    if (p) {
      forEachPrefixRun(p, (start, end) => p.order.subarray(start, end).sort(byLine));
      return p.order;
    }
    return Uint32Array.from({ length: n }, (_, i) => i).sort(byLine);
  }
  const keys = lines.map(keyOf);
  return Uint32Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const x = keys[a]!;
    const y = keys[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** Sort out[from..to) in place: cheapest for the tiny groups left after the radix passes. */
function insertionSort(out: string[], from: number, to: number): void {
  for (let a = from + 1; a < to; a++) {
    const v = out[a];
    let b = a - 1;
    while (b >= from && out[b] > v) {
      out[b + 1] = out[b];
      b--;
    }
    out[b + 1] = v;
  }
}

/** True when out[from..to) are all the same line: a frequent record (a word count's "the\t1") needs no sort. */
function allEqual(out: string[], from: number, to: number): boolean {
  const first = out[from];
  for (let k = from + 1; k < to; k++) if (out[k] !== first) return false;
  return true;
}
