/**
 * The sorted runs the map-side sort (core/external-sort.ts) spilled to local disk: one file
 * per spill holding all R partitions (core/map-output.ts `PartitionedFileWriter`), read
 * back partition by partition for the final merge, and removed at cleanup.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { expandedBytes } from './counted-lines.js';
import { PartitionedFileWriter, readPartitionBytes, type SortedBatch } from './map-output.js';

interface Run {
  path: string;
  offsets: number[];
  /** Written in the counted form (core/counted-lines.ts). */
  counted: boolean;
}

/** The spill runs of one sorter, in spill order. */
export class SpillRuns {
  private readonly runs: Run[] = [];
  private readonly id = `${process.pid}-${randomBytes(4).toString('hex')}`;

  constructor(
    private readonly dir: string,
    private readonly numPartitions: number,
  ) {}

  /** Runs written so far. */
  get count(): number {
    return this.runs.length;
  }

  /** Whether every run so far is in the counted form (true when there is none). */
  get allCounted(): boolean {
    return this.runs.every((r) => r.counted);
  }

  /**
   * Write the R sorted streams `sorted` (each through `combined`) as one run file; returns
   * the records written. A failed write leaves no file behind.
   */
  async write(sorted: AsyncIterable<SortedBatch>[], counted: boolean, combined: (s: AsyncIterable<SortedBatch>) => AsyncIterable<SortedBatch>): Promise<number> {
    const path = join(this.dir, `spill-${this.id}-${this.runs.length}.run`);
    // A run is read back from local disk, never uploaded: no CRC-32.
    const writer = new PartitionedFileWriter(path, this.numPartitions, false);
    try {
      for (let p = 0; p < sorted.length; p++) await writer.writePartition(p, combined(sorted[p]!));
      const info = await writer.close();
      this.runs.push({ path, offsets: info.offsets, counted });
      return info.records;
    } catch (err) {
      writer.abort();
      await rm(path, { force: true });
      throw err;
    }
  }

  /**
   * Partition `p` of every run, in spill order, as sorted blocks of whole lines: a counted
   * run expanded to plain lines unless the merged output is counted (`countedOutput`).
   */
  partition(p: number, countedOutput: boolean): AsyncIterable<Buffer>[] {
    return this.runs.map((r) => {
      const bytes = readPartitionBytes(r.path, r.offsets, p);
      return r.counted && !countedOutput ? expandedBytes(bytes) : bytes;
    });
  }

  /** Remove every run file. Safe to call more than once. */
  async removeAll(): Promise<void> {
    const runs = this.runs.splice(0);
    await Promise.all(runs.map((r) => rm(r.path, { force: true })));
  }
}
