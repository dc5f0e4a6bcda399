/**
 * The map-side sort: partitions map output, sorts it by key, combines it, spills
 * sorted runs to disk when the buffer is full, and merges everything per partition at
 * the end. The in-memory buffer (`SortBuffer`) counts repeated lines while they repeat
 * and holds plain per-partition lists otherwise; a combiner runs over each sorted run,
 * like Hadoop.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MapReduceError } from './errors.js';
import { PartitionedFileWriter, readPartition } from './map-output.js';
import { combineGroups, mergeSorted } from './merge.js';
import { detach, hasKey, valueAfterKey } from './records.js';
import { SortBuffer } from './sort-buffer.js';

/** Combines one key's values; returns output LINES (`key\tvalue`) whose keys must be unchanged. */
export type GroupCombiner = (key: string, values: string[]) => string[] | Promise<string[]>;
/** Combines a whole sorted stream (e.g. an external combiner process); its output must stay sorted. */
export type StreamCombiner = (sortedLines: AsyncIterable<string[]>) => AsyncIterable<string[]>;

export interface SortOptions {
  numPartitions: number;
  /** Approximate memory for buffered records before a spill (line bytes + per-record overhead). */
  bufferBytes: number;
  /** Directory for spill files (created by the caller). */
  spillDir: string;
  combiner?: { kind: 'group'; fn: GroupCombiner } | { kind: 'stream'; fn: StreamCombiner };
  /** Count repeated lines in the buffer while they repeat (default true; see SortBuffer). */
  countRepeats?: boolean;
  /** The partition of a line, instead of hashing its key (see SortBuffer). */
  partitionOf?: (line: string, numPartitions: number) => number;
  /** Total-order split points to route keys by (see SortBuffer). */
  splitPoints?: readonly string[];
}

interface Run {
  path: string;
  offsets: number[];
}

/**
 * Map-side sort buffer with spilling. Call `add` with batches of map output (awaiting
 * any promise it returns), then `finish` once, then `cleanup` (also after a failure).
 * Memory: about `bufferBytes` of buffered records, plus one 256 KiB read buffer per
 * spill run during `finish`.
 */
export class ExternalSorter {
  /**
   * `spilledRecords`: records written to spill files. `combineInputRecords` /
   * `combineOutputRecords`: lines that went into / came out of the combiner (a key's
   * single line that never needed combining is not counted).
   */
  readonly stats = { spilledRecords: 0, spills: 0, combineInputRecords: 0, combineOutputRecords: 0 };
  private readonly buffer: SortBuffer;
  private readonly runs: Run[] = [];
  private readonly group: GroupCombiner | undefined;
  private readonly stream: StreamCombiner | undefined;
  private readonly id = `${process.pid}-${randomBytes(4).toString('hex')}`;
  private finished = false;

  constructor(private readonly opts: SortOptions) {
    this.buffer = new SortBuffer({
      numPartitions: opts.numPartitions,
      countRepeats: opts.countRepeats,
      partitionOf: opts.partitionOf,
      splitPoints: opts.splitPoints,
    });
    this.group = opts.combiner?.kind === 'group' ? opts.combiner.fn : undefined;
    this.stream = opts.combiner?.kind === 'stream' ? opts.combiner.fn : undefined;
  }

  /**
   * Buffer a batch of map output lines. Returns a promise only when it had to spill
   * (or run an async combiner); await it before the next call.
   */
  add(lines: string[]): Promise<void> | void {
    if (this.finished) throw new MapReduceError('ExternalSorter: add after finish');
    return this.addFrom(lines, 0);
  }

  private addFrom(lines: string[], start: number): Promise<void> | void {
    const limit = this.opts.bufferBytes;
    const next = this.buffer.add(lines, start, limit);
    if (this.buffer.bytes > limit) return this.spill().then(() => this.addFrom(lines, next));
    if (next < lines.length) return this.addFrom(lines, next);
  }

  /** Run the group combiner on one key's lines; validates that keys are unchanged. */
  private combine(key: string, lines: string[]): string[] | Promise<string[]> {
    const fn = this.group!;
    const values = lines.map((l) => valueAfterKey(l, key.length));
    this.stats.combineInputRecords += lines.length;
    const out = fn(key, values);
    return out instanceof Promise ? out.then((o) => this.checkCombined(key, o)) : this.checkCombined(key, out);
  }

  private checkCombined(key: string, out: string[]): string[] {
    for (let i = 0; i < out.length; i++) {
      const line = out[i]!;
      if (!hasKey(line, key)) {
        throw new MapReduceError(`The combiner changed key "${key}" into a line with another key: "${line}"`, {
          context: { key },
        });
      }
      out[i] = detach(line);
    }
    this.stats.combineOutputRecords += out.length;
    return out;
  }

  /** Write the buffer as one sorted (and combined) run file. */
  private async spill(): Promise<void> {
    if (this.buffer.isEmpty) return;
    const sorted = this.buffer.take();
    const path = join(this.opts.spillDir, `spill-${this.id}-${this.runs.length}.run`);
    const writer = new PartitionedFileWriter(path, this.opts.numPartitions);
    try {
      for (let p = 0; p < sorted.length; p++) {
        await writer.writePartition(p, this.combined(sorted[p]!));
      }
      const info = await writer.close();
      this.runs.push({ path, offsets: info.offsets });
      this.stats.spills++;
      this.stats.spilledRecords += info.records;
    } catch (err) {
      writer.abort();
      await rm(path, { force: true });
      throw err;
    }
  }

  /**
   * Emit every partition 0..R-1 in order through `write` (empty ones as empty streams):
   * the buffer merged with all spill runs in key order, combined again on the way.
   */
  async finish(write: (partition: number, sorted: AsyncIterable<string[]>) => Promise<void>): Promise<void> {
    if (this.finished) throw new MapReduceError('ExternalSorter: finish called twice');
    this.finished = true;
    const sorted = this.buffer.take();
    for (let p = 0; p < sorted.length; p++) {
      const buffered = sorted[p]!;
      if (this.runs.length === 0) {
        await write(p, this.combined(buffered));
        continue;
      }
      const sources = this.runs.map((r) => readPartition(r.path, r.offsets, p));
      sources.push(buffered);
      const merged = mergeSorted(sources);
      // A key's lines from different runs meet here, so combine once more.
      await write(p, this.combined(merged));
    }
  }

  /** Pass a sorted stream through the combiner, if there is one, counting records. */
  private combined(sorted: AsyncIterable<string[]>): AsyncIterable<string[]> {
    if (this.group) return combineGroups(sorted, (k, l) => this.combine(k, l));
    const fn = this.stream;
    if (!fn) return sorted;
    const stats = this.stats;
    async function* counted(): AsyncIterable<string[]> {
      for await (const b of sorted) {
        stats.combineInputRecords += b.length;
        yield b;
      }
    }
    async function* outCounted(): AsyncIterable<string[]> {
      for await (const b of fn!(counted())) {
        stats.combineOutputRecords += b.length;
        yield b;
      }
    }
    return outCounted();
  }

  /** Remove all spill files. Safe to call more than once. */
  async cleanup(): Promise<void> {
    const runs = this.runs.splice(0);
    await Promise.all(runs.map((r) => rm(r.path, { force: true })));
  }
}
