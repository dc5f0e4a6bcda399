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

/** How long a finished table's storage waits for the next table (a worker's next map attempt) before it is let go. */
const SPARE_KEEP_MS = 5000;
/** A spare bucket array is taken only up to this many times the buckets asked for (a bigger one would be sparse and slow to clear). */
const MAX_OVERSIZE = 4;

/** A bucket array (pairs of int32: hash, record offset + 1) and a key arena. */
export interface CharTableStorage {
  readonly table: Int32Array;
  readonly arena: Buffer;
}

let spare: CharTableStorage | undefined;
let spareTimer: ReturnType<typeof setTimeout> | undefined;

/** Keep a finished table's storage for the next table (the bigger spare wins). */
export function keepCharTableSpare(s: CharTableStorage): void {
  if (spare && spare.table.length > s.table.length) return;
  spare = s;
  clearTimeout(spareTimer);
  spareTimer = setTimeout(releaseCharTableSpare, SPARE_KEEP_MS);
  spareTimer.unref();
}

/**
 * The spare storage, handed over (none is kept), when its bucket array has at least
 * `buckets` buckets and at most MAX_OVERSIZE times that; its contents are stale (the
 * caller clears the buckets it uses).
 */
export function takeCharTableSpare(buckets: number): CharTableStorage | undefined {
  const s = spare;
  if (!s) return undefined;
  const have = s.table.length / 2;
  if (have < buckets || have > MAX_OVERSIZE * buckets) return undefined;
  releaseCharTableSpare();
  return s;
}

/** Let the spare storage go. */
export function releaseCharTableSpare(): void {
  spare = undefined;
  clearTimeout(spareTimer);
  spareTimer = undefined;
}
