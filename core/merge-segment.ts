/**
 * The reduce merge's inputs and its facts: what core/merge-passes.ts merges and what it
 * reports, apart so that the in-memory runs (core/merge-memory-runs.ts) can make segments
 * without importing the merge.
 */

/** One sorted input of the merge: a downloaded slice in memory or on disk, or an intermediate file. */
export interface Segment {
  /**
   * Open it for reading (once): its bytes, '\n'-ended lines sorted by key. Holds an open file
   * only while it is read. A chunk may be valid only until the next one is asked for.
   */
  open(): AsyncIterable<Buffer>;
  /** True when reading it holds a file open. */
  readonly onDisk: boolean;
  /** Free it (delete its file) once it was merged. */
  release(): Promise<void>;
  /** Its records are in the counted form (core/counted-lines.ts). */
  readonly counted?: boolean;
}

/** Facts about one merge, for counters and tests. */
export interface MergeStats {
  /** Intermediate merges written to disk. */
  intermediateMerges: number;
  /** Bytes those merges wrote. */
  intermediateBytes: number;
  /** Intermediate merges kept in memory (all inputs in memory, output within the budget). */
  memoryMerges: number;
  /** Most bytes of in-memory runs held at once. */
  maxMemoryRunBytes: number;
  /** Most segments read at once (the fan-in actually used: ≤ factor). */
  maxOpenSegments: number;
  /** Most segments read at once that held a file open. */
  maxOpenFiles: number;
}

/** Zeroed facts for one merge. */
export function newMergeStats(): MergeStats {
  return { intermediateMerges: 0, intermediateBytes: 0, memoryMerges: 0, maxMemoryRunBytes: 0, maxOpenSegments: 0, maxOpenFiles: 0 };
}
