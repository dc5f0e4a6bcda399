/**
 * What the byte sort buffer (./byte-sort-buffer.ts) and the byte line counter
 * (./byte-line-counter.ts) do with their index arrays when they hand a fill over and while
 * they grow: group the records by partition, fix the prefix digits of short keys when keys
 * are compared alone, and size the next index arrays. Pure functions over typed arrays.
 */
import { prefixDigit } from './byte-sort.js';
import type { Digits } from './byte-sort-storage.js';

/** The compared bytes the index keeps as digits (./byte-sort.ts: the radix passes' prefix). */
export const PREFIX_BYTES = 6;
/** The index arrays grow at most this many times at once (see `indexCapacity`). */
export const GROW_AT_MOST = 8;

/** Record indexes grouped by partition: partition r's are `byPart[offsets[r] .. offsets[r + 1])`, in arrival order. */
export interface PartitionedRecords {
  readonly offsets: Uint32Array;
  readonly byPart: Uint32Array;
}

/** Group records 0..n-1 by their partition `part[i]` (< R), keeping arrival order (a counting pass). */
export function recordsByPartition(part: Uint32Array, n: number, R: number): PartitionedRecords {
  const offsets = new Uint32Array(R + 1);
  for (let i = 0; i < n; i++) offsets[part[i]! + 1]!++;
  for (let r = 0; r < R; r++) offsets[r + 1]! += offsets[r]!;
  const byPart = new Uint32Array(n);
  const fill = offsets.slice(0, R);
  for (let i = 0; i < n; i++) byPart[fill[part[i]!]!++] = i;
  return { offsets, byPart };
}

/**
 * Keys compared alone (a key byte below '\t' made whole-line order differ from key order):
 * a key shorter than the prefix has 0s past its end, not the bytes of its line, so the
 * digits taken from the line (`ByteSortBuffer.index`) are taken again from the key.
 */
export function keyPrefixDigits(arena: Buffer, start: Uint32Array, len: Uint32Array, keyLen: Uint32Array, digits: Digits, n: number): void {
  for (let i = 0; i < n; i++) {
    const k = keyLen[i]!;
    if (k >= PREFIX_BYTES || k === len[i]) continue;
    const s = start[i]!;
    digits[0][i] = prefixDigit(arena, s, s + k);
    digits[1][i] = prefixDigit(arena, s + 2, s + k);
    digits[2][i] = prefixDigit(arena, s + 4, s + k);
  }
}

/**
 * The next size of full index arrays holding `n` records of `bytes` (estimated, with
 * `recordOverhead` per record) in a fill that stops at `limit` bytes (Infinity: no known
 * limit): as many as the fill is estimated to hold (the records so far scaled by bytes to
 * the limit, 10 % over), at least twice as many and at most GROW_AT_MOST times, and never
 * more than the limit allows (every record counts at least `recordOverhead` + 1 bytes).
 * Doubling from 1,024 entries copied the arrays ~9 times per fill of a buffer that found no
 * spare storage (the first map attempt after a reduce): 18 ms of a 32 MiB word count map.
 * At most 8 times at once: a fill that stops far below its limit (a combiner's few distinct
 * keys, flushed) must not allocate the limit's worth of index.
 */
export function indexCapacity(n: number, bytes: number, limit: number, recordOverhead: number): number {
  const most = Number.isFinite(limit) ? Math.ceil(limit / (recordOverhead + 1)) + 1 : 0;
  const estimate = Number.isFinite(limit) && bytes > 0 ? Math.ceil(((n * limit) / bytes) * 1.1) : 0;
  return Math.max(n * 2, Math.min(estimate, most, n * GROW_AT_MOST));
}
