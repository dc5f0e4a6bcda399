/**
 * The options of the map-side sort (core/external-sort.ts `ExternalSorter`), apart so the
 * workers' steps that build them (worker/combiner.ts, worker/key-field-step.ts) need not
 * import the sorter.
 */
import type { SortCombiner } from './sort-combiner.js';

/** How the map-side sort buffers, spills, combines and partitions (core/external-sort.ts). */
export interface SortOptions {
  numPartitions: number;
  /** Approximate memory for buffered records before a spill (line bytes + per-record overhead). */
  bufferBytes: number;
  /** Directory for spill files (created by the caller). */
  spillDir: string;
  combiner?: SortCombiner;
  /** Count repeated lines in the buffer while they repeat (default true; see SortBuffer). */
  countRepeats?: boolean;
  /** The partition of a line, instead of hashing its key (see SortBuffer). */
  partitionOf?: (line: string, numPartitions: number) => number;
  /** Total-order split points to route keys by (see SortBuffer). */
  splitPoints?: readonly string[];
  /**
   * Hold records that rarely repeat as bytes (`ByteSortBuffer`) instead of line strings
   * (the workers' default; MR_MAP_SIDE_BYTES=false turns it off): the same output in less
   * memory (docs/performance.md, "The map side on bytes").
   */
  bytes?: boolean;
  /**
   * Write the counter's records in the counted form (core/counted-lines.ts: each distinct
   * line once with its count) when no combiner reads them (default true); false writes
   * every copy, as before the form existed.
   */
  countedForm?: boolean;
  /**
   * The fraction of the map's input read so far (0..1), when known: lets the byte buffer's
   * last fill pass `bufferBytes` by up to `TAIL_ALLOWANCE` instead of spilling (see
   * `keepsFilling`). Without it every fill spills at `bufferBytes`.
   */
  inputRead?: () => number;
}
