/**
 * The map-side sort: partitions map output, sorts it by key, combines it, spills
 * sorted runs to disk when the buffer is full, and merges everything per partition at
 * the end. The in-memory buffer counts repeated lines while they repeat (`SortBuffer`,
 * strings) and otherwise holds them as bytes (`ByteSortBuffer`: arena chunks and index
 * arrays); key-field partitioners keep the string buffer throughout. Spill runs are
 * merged as bytes (`mergeSortedBytes`); a combiner runs over each sorted run, like
 * Hadoop, on decoded lines. The run files are core/spill-runs.ts's, the last fill's
 * allowance core/external-sort-tail.ts's, the options core/sort-options.ts's.
 */
import { MapReduceError } from './errors.js';
import { linesOf, mergeSortedBytes } from './byte-merge.js';
import { ByteLineCounter } from './byte-line-counter.js';
import { ByteSortBuffer } from './byte-sort-buffer.js';
import { expandedBytes } from './counted-lines.js';
import { keepsFilling, TAIL_ALLOWANCE } from './external-sort-tail.js';
import type { SortedBatch } from './map-output.js';
import { encodeLines } from './records.js';
import { SortBuffer } from './sort-buffer.js';
import { combinedBatches } from './sort-combiner.js';
import type { SortOptions } from './sort-options.js';
import { SpillRuns } from './spill-runs.js';

export type { GroupCombiner, StreamCombiner } from './sort-combiner.js';
export type { SortOptions } from './sort-options.js';
export { keepsFilling, TAIL_ALLOWANCE } from './external-sort-tail.js';

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
  /**
   * Records given to `add` and `addBytes`, counted by the buffers as they take them: the
   * map's output records (MAP_OUTPUT_RECORDS) without a second scan of an executable's stdout.
   */
  recordsAdded = 0;
  /** The string buffer: while repeats are counted, or for a key-field partitioner. */
  private readonly strings: SortBuffer | undefined;
  /** The byte buffer: once counting stopped (or was never on), unless a key-field partitioner. */
  private readonly bytes: ByteSortBuffer | undefined;
  /** True while lines go to `strings`. */
  private stringMode: boolean;
  /**
   * Counting on bytes: used instead of `strings` when the first records come as bytes (an
   * executable's stdout) and repeats are counted; made then (a module mapper's line
   * strings never need its arena).
   */
  private counter: ByteLineCounter | undefined;
  /** Whether the first bytes start `counter` (repeats counted, bytes kept). */
  private readonly countOnBytes: boolean;
  /** True while lines go to `counter`. */
  private counterMode = false;
  private started = false;
  private readonly runs: SpillRuns;
  private finished = false;
  /** Whether `finish` wrote the counted form (core/counted-lines.ts); set by `finish`. */
  private countedOutput = false;
  /** The byte buffer's fill limit: `bufferBytes`, or past it for the map's last fill (`keepsFilling`). */
  private fillLimit: number;
  /** The estimates of the fills spilled so far (the map's output before this fill). */
  private spilledBytes = 0;

  constructor(private readonly opts: SortOptions) {
    const counting = opts.countRepeats ?? true;
    if (opts.bytes && !opts.partitionOf) {
      this.bytes = new ByteSortBuffer({ numPartitions: opts.numPartitions, splitPoints: opts.splitPoints, limitBytes: opts.bufferBytes });
    }
    if (!this.bytes || counting) {
      this.strings = new SortBuffer({
        numPartitions: opts.numPartitions,
        countRepeats: counting,
        partitionOf: opts.partitionOf,
        splitPoints: opts.splitPoints,
        // The counted lines move to the byte buffer, in the order the plain lists would hold them.
        onStopCounting: this.bytes ? (lines, counts) => this.moveCounted(lines, counts) : undefined,
      });
    }
    this.stringMode = this.strings !== undefined;
    this.countOnBytes = this.bytes !== undefined && counting;
    this.fillLimit = opts.bufferBytes;
    this.runs = new SpillRuns(opts.spillDir, opts.numPartitions);
  }

  /**
   * Buffer a batch of map output lines. Returns a promise only when it had to spill
   * (or run an async combiner); await it before the next call.
   */
  add(lines: string[]): Promise<void> | void {
    if (this.finished) throw new MapReduceError('ExternalSorter: add after finish');
    this.started = true;
    if (this.counterMode) return this.addCountedFrom(encodeLines(lines), 0);
    return this.addFrom(lines, 0);
  }

  /**
   * Buffer whole '\n'-ended lines given as bytes (the same as `add` of those lines). The
   * block is copied; the caller may reuse it once the returned promise (if any) resolved.
   */
  addBytes(block: Buffer): Promise<void> | void {
    if (this.finished) throw new MapReduceError('ExternalSorter: add after finish');
    if (!this.started) {
      this.started = true;
      if (this.countOnBytes) {
        this.counter = new ByteLineCounter(this.opts.numPartitions, this.opts.splitPoints);
        [this.counterMode, this.stringMode] = [true, false];
      }
    }
    if (this.counterMode) return this.addCountedFrom(block, 0);
    if (this.stringMode) return this.addFrom(linesOf(block), 0);
    return this.addBytesFrom(block, 0);
  }

  private addCountedFrom(block: Buffer, from: number): Promise<void> | void {
    const counter = this.counter!;
    const limit = this.opts.bufferBytes;
    const before = counter.linesTaken;
    const next = counter.add(block, from, limit);
    this.recordsAdded += counter.linesTaken - before;
    // Counting stopped: its lines move to the byte buffer, which takes the rest.
    if (!counter.counting) this.stopCounting();
    const rest = (at: number) => (this.counterMode ? this.addCountedFrom(block, at) : this.addBytesFrom(block, at));
    if (this.bufferedBytes > limit) return this.spill().then(() => rest(next));
    if (next < block.length) return rest(next);
  }

  /** The counted lines, as the plain buffer would have held them, into the byte buffer (past its limit if need be). */
  private stopCounting(): void {
    this.counterMode = false;
    const moved = this.counter!.expanded();
    if (moved.length > 0) this.bytes!.add(moved, 0, Infinity);
  }

  private addFrom(lines: string[], start: number): Promise<void> | void {
    if (!this.stringMode) return start < lines.length ? this.addBytesFrom(encodeLines(start > 0 ? lines.slice(start) : lines), 0) : undefined;
    const buffer = this.strings!;
    const limit = this.opts.bufferBytes;
    const next = buffer.add(lines, start, limit);
    this.recordsAdded += next - start;
    // Counting stopped: its lines moved to the byte buffer, which takes the rest.
    if (this.bytes && !buffer.counting) this.stringMode = false;
    if (this.bufferedBytes > limit) return this.spill().then(() => this.addFrom(lines, next));
    if (next < lines.length) return this.addFrom(lines, next);
  }

  private addBytesFrom(block: Buffer, from: number): Promise<void> | void {
    const buffer = this.bytes!;
    // The last fill takes no line bytes past the arena it has.
    if (this.fillLimit > this.opts.bufferBytes && block.length - from > buffer.room) return this.spill().then(() => this.addBytesFrom(block, from));
    const before = buffer.linesTaken;
    const next = buffer.add(block, from, this.fillLimit);
    this.recordsAdded += buffer.linesTaken - before;
    if (buffer.bytes > this.fillLimit && !this.fillsOn()) return this.spill().then(() => this.addBytesFrom(block, next));
    if (next < block.length) return this.addBytesFrom(block, next);
  }

  /** The byte buffer passed `bufferBytes`: whether this fill goes on as the map's last (`keepsFilling`). */
  private fillsOn(): boolean {
    const limit = this.opts.bufferBytes;
    const read = this.opts.inputRead;
    if (this.fillLimit > limit || !read || !keepsFilling(this.bytes!.bytes, this.spilledBytes, limit, read())) return false;
    this.fillLimit = limit * (1 + TAIL_ALLOWANCE);
    return true;
  }

  private get bufferedBytes(): number {
    return (this.strings?.bytes ?? 0) + (this.bytes?.bytes ?? 0) + (this.counter?.bytes ?? 0);
  }

  /** The counted lines, as the plain lists would have held them, into the byte buffer (past its limit if need be). */
  private moveCounted(lines: readonly string[], counts: readonly number[]): void {
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) for (let n = counts[i]!; n > 0; n--) out.push(lines[i]!);
    if (out.length > 0) this.bytes!.add(encodeLines(out), 0, Infinity);
  }

  /**
   * True when the map output (from `finish`) is in the counted form (core/counted-lines.ts):
   * the counter's records, spilled and final, each distinct line once with its count.
   */
  get outputIsCounted(): boolean {
    return this.countedOutput;
  }

  /**
   * The buffered records as R sorted streams; the buffer starts afresh. At most one of the
   * buffers holds records. `counted`: the streams are in the counted form, which the
   * counter writes unless a combiner reads the lines.
   */
  private takeBuffered(reuseBlocks: boolean): { sorted: AsyncIterable<SortedBatch>[]; counted: boolean } {
    if (this.counterMode && !this.counter!.isEmpty) {
      const counted = this.opts.combiner === undefined && (this.opts.countedForm ?? true);
      const sorted = this.counter!.take({ reuseBlocks, counted });
      // A window that ended without repeats paying off: bytes from now on.
      if (!this.counter!.counting) this.counterMode = false;
      return { sorted, counted };
    }
    const strings = this.strings && !this.strings.isEmpty ? this.strings.take() : undefined;
    // A window that ended without repeats paying off leaves the string buffer not counting: bytes from now on.
    if (this.bytes && this.strings && !this.strings.counting) this.stringMode = false;
    return { sorted: strings ?? this.bytes?.take({ reuseBlocks }) ?? this.strings!.take(), counted: false };
  }

  private get bufferIsEmpty(): boolean {
    return (this.strings?.isEmpty ?? true) && (this.bytes?.isEmpty ?? true) && (this.counter?.isEmpty ?? true);
  }

  /** Write the buffer as one sorted (and combined) run file. */
  private async spill(): Promise<void> {
    if (this.bufferIsEmpty) return;
    // The writer (or the combiner's decode) takes each block before asking for the next.
    const { sorted, counted } = this.takeBuffered(true);
    this.fillLimit = this.opts.bufferBytes;
    this.spilledBytes += this.bufferedBytes;
    this.stats.spilledRecords += await this.runs.write(sorted, counted, (p) => this.combined(p));
    this.stats.spills++;
  }

  /**
   * Emit every partition 0..R-1 in order through `write` (empty ones as empty streams):
   * the buffer merged with all spill runs in key order, combined again on the way.
   */
  async finish(write: (partition: number, sorted: AsyncIterable<SortedBatch>) => Promise<void>): Promise<void> {
    if (this.finished) throw new MapReduceError('ExternalSorter: finish called twice');
    this.finished = true;
    // The final merge holds a block while other sources go on: fresh blocks then. (`write`
    // must take each batch before asking for the next, as PartitionedFileWriter does.)
    const emptyBuffer = this.bufferIsEmpty;
    const { sorted, counted } = this.takeBuffered(this.runs.count === 0);
    // The output is counted when every run and the buffer are (an empty buffer is either);
    // otherwise the counted ones are expanded as they are merged.
    const bufferCounted = counted || (emptyBuffer && this.runs.count > 0);
    this.countedOutput = bufferCounted && this.runs.allCounted;
    for (let p = 0; p < sorted.length; p++) {
      const buffered = sorted[p]!;
      if (this.runs.count === 0) {
        await write(p, this.combined(buffered));
        continue;
      }
      const sources = this.runs.partition(p, this.countedOutput);
      sources.push(counted && !this.countedOutput ? expandedBytes(asBytes(buffered)) : asBytes(buffered));
      // Equal keys in run order, the buffer last (as the string merge had them). The merged
      // blocks are taken (copied by the writer, or decoded for the combiner) one at a time.
      const merged = mergeSortedBytes(sources, { reuseBlocks: true, counted: this.countedOutput });
      // A key's lines from different runs meet here, so combine once more.
      await write(p, this.combined(merged));
    }
  }

  private combined(sorted: AsyncIterable<SortedBatch>): AsyncIterable<SortedBatch> {
    return combinedBatches(sorted, this.opts.combiner, this.stats);
  }

  /** Remove all spill files and hand the byte buffer's storage on to the next sorter. Safe to call more than once. */
  async cleanup(): Promise<void> {
    this.bytes?.release();
    await this.runs.removeAll();
  }
}

/** Sorted batches as bytes of whole lines (string batches encoded once each). */
async function* asBytes(sorted: AsyncIterable<SortedBatch>): AsyncIterable<Buffer> {
  for await (const b of sorted) yield Array.isArray(b) ? encodeLines(b) : b.bytes;
}
