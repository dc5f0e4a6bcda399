/**
 * The emitted pairs a RepeatAggregator (./repeat-aggregator.ts) has hashed but not counted
 * yet: keys with the common value, looked up in the key table together (`CharTable.touch`
 * reads all their places first, so the cache misses of a large table overlap instead of
 * coming one after another; docs/performance.md, "Looking keys up in batches").
 */
import { TOUCH_MAX } from '../core/char-table.js';

/**
 * Emitted pairs looked up together at most. A batch spans input records: a mapper that
 * emits 3 or 10 pairs per line (short lines) fills it as well as one with 200.
 */
export const BATCH_KEYS = Math.min(128, TOUCH_MAX);

/**
 * Held keys from which emitted pairs are looked up in batches: a table of ~2 MiB and more
 * (8-byte buckets, half full, and the records), past what the core's cache keeps. Below
 * it a lookup hits the cache and a batch would only add its own work (English: 20k keys).
 */
export const BATCH_FROM_KEYS = 65536;

/** Keys with their hashes in the key table and widths, in the order they were emitted. */
export class KeyBatch {
  readonly keys: Array<string | undefined> = new Array<string | undefined>(BATCH_KEYS).fill(undefined);
  readonly hashes = new Int32Array(BATCH_KEYS);
  /** 1: the key has a char above 0xff. */
  readonly wide = new Uint8Array(BATCH_KEYS);
  /** Keys held. */
  n = 0;
  /** Their chars: with `n`, a bound on what counting them can add to the aggregator's size. */
  chars = 0;

  /** Take a key; true when the batch is full (to be counted now). */
  push(key: string, hash: number, wide: boolean): boolean {
    const k = this.n++;
    this.keys[k] = key;
    this.hashes[k] = hash;
    this.wide[k] = wide ? 1 : 0;
    this.chars += key.length;
    return k + 1 === BATCH_KEYS;
  }

  /** The `k`th key, forgotten here (no reference kept to a big line a key may be cut from). */
  take(k: number): string {
    const key = this.keys[k]!;
    this.keys[k] = undefined;
    return key;
  }

  /** Empty again (after its keys were taken). */
  clear(): void {
    this.n = 0;
    this.chars = 0;
  }
}
