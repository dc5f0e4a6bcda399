/**
 * Total-order routing on bytes: the partition of a key given as a byte range, by the sorted
 * split points (core/total-order.ts computes them; `totalOrderPartition` routes strings the
 * same way). Shared by the byte sort buffer and the byte line counter.
 */

/** The partition of key `buf[from..to)`: the number of split points ≤ key (as `totalOrderPartition`). */
export function routeByPoints(points: readonly Buffer[], buf: Buffer, from: number, to: number): number {
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
