/**
 * The storage of a CharTable (./char-table.ts), its bucket array and its key arena, kept
 * from a table that is done (an aggregator window that was flushed) for the next table in
 * the process: a worker runs the map attempts of one job one after another, and each
 * attempt's table grew to the same size. Allocated afresh, a 1M-word vocabulary's table
 * (an 8 MiB bucket array, a 16 MiB arena reached by doubling from 64 KiB, a copy each
 * time) was ~40 MiB of new external memory per 32 MiB split: fresh pages to fault in and
 * zero, and external memory that makes V8 start full collections (as the byte sort
 * buffer's storage, ./byte-sort-storage.ts).
 */
import { Spare } from './spare.js';

/** A spare bucket array is taken only up to this many times the buckets asked for (a bigger one would be sparse and slow to clear). */
const MAX_OVERSIZE = 4;

/** A bucket array (pairs of int32: hash, record offset + 1) and a key arena. */
export interface CharTableStorage {
  readonly table: Int32Array;
  readonly arena: Buffer;
}

const spare = new Spare<CharTableStorage>((s) => s.table.length);

/** Keep a finished table's storage for the next table (the bigger spare wins). */
export function keepCharTableSpare(s: CharTableStorage): void {
  spare.keep(s);
}

/**
 * The spare storage, handed over (none is kept), when its bucket array has at least
 * `buckets` buckets and at most MAX_OVERSIZE times that; its contents are stale (the
 * caller clears the buckets it uses).
 */
export function takeCharTableSpare(buckets: number): CharTableStorage | undefined {
  return spare.take((s) => s.table.length / 2 >= buckets && s.table.length / 2 <= MAX_OVERSIZE * buckets);
}

/** Let the spare storage go (e.g. before a reduce, which has no use for it). */
export function releaseCharTableSpare(): void {
  spare.release();
}
