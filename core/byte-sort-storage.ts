/**
 * The storage of the byte sort buffer (core/byte-sort-buffer.ts): its arena, index arrays and
 * prefix digits, and the spare kept from a released buffer for the next one in the process.
 */
import { releaseSortScratch } from './byte-sort.js';
import { Spare } from './spare.js';

/** An arena and its index arrays. */
export interface Storage {
  arena: Buffer;
  start: Uint32Array<ArrayBuffer>;
  len: Uint32Array<ArrayBuffer>;
  keyLen: Uint32Array<ArrayBuffer>;
  part: Uint32Array<ArrayBuffer>;
  digits: Digits;
}

/** The prefix digits of each record (core/byte-sort.ts `RecordRanges.digits`). */
export type Digits = [Uint16Array<ArrayBuffer>, Uint16Array<ArrayBuffer>, Uint16Array<ArrayBuffer>];
export const newDigits = (n: number): Digits => [new Uint16Array(n), new Uint16Array(n), new Uint16Array(n)];

/**
 * The storage of the last released buffer, for the next one (./spare.ts): each map attempt
 * grew a fresh arena to the sort buffer's size (a copy per doubling) and left it as
 * garbage, tens of MiB of external memory per attempt (docs/performance.md, "Shuffle-heavy jobs").
 */
const spare = new Spare<Storage>((s) => s.arena.length);

/** Keep a released buffer's storage for the next buffer (a bigger spare kept wins). */
export function keepSpare(s: Storage): void {
  spare.keep(s);
}

/** The spare storage if its arena holds at least `need` bytes (it is handed over: none is kept). */
export function takeSpare(need: number): Storage | undefined {
  return spare.take((s) => s.arena.length >= need);
}

/**
 * Let go of the storage kept from the last sort buffer, and the sort's kept arrays (e.g. before a reduce, which has no
 * use for it and would otherwise carry the arena's pages in its RSS).
 */
export function releaseSpareSortStorage(): void {
  spare.release();
  releaseSortScratch();
}
