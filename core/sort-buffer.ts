/**
 * The in-memory half of the map-side sort: holds map output lines by partition and
 * hands them over sorted by key.
 *
 * While lines repeat (a word count mapper's `the\t1`, a log aggregation's
 * `status=500\t1`), it COUNTS them: each distinct line is held once with its number of
 * copies (one hash lookup per line), and only distinct lines are partitioned and
 * sorted. Identical lines are interchangeable, so writing each sorted distinct line
 * as many times as it came is the same sorted output, from a buffer that holds the
 * vocabulary instead of every record (so it rarely spills). When fewer than half of
 * the lines repeat enough (the shared policy of `core/repeats.ts`), counting would only
 * add a lookup per line: the buffer turns into plain per-partition lists for the rest of
 * the attempt.
 */
import { DEFAULT_BATCH_LINES } from './merge.js';
import { FNV_OFFSET, FNV_PRIME } from './partition.js';
import { totalOrderPartition } from './total-order.js';
import { detach } from './records.js';
import { sortByKey, sortOrderByKey } from './line-sort.js';
import { repeatsPayOff } from './repeats.js';
import { StringTable } from './string-table.js';

/** Estimated heap cost of one more buffered line in a plain list (besides its chars). */
const LINE_OVERHEAD = 40;
/** Estimated heap cost of one distinct counted line: map entry, tally slot, string header. */
const COUNTED_OVERHEAD = 80;

export interface SortBufferOptions {
  readonly numPartitions: number;
  /** Count repeated lines while they repeat (default true, see core/repeats.ts); false keeps plain lists from the start. */
  readonly countRepeats?: boolean;
  /**
   * The partition of a line, instead of FNV-1a of its key: a key-field partitioner
   * (core/shuffle-key.ts). Its lines' keys must not hold bytes below '\t'.
   */
  readonly partitionOf?: (line: string, numPartitions: number) => number;
  /**
   * Total order: route a key by binary search over these sorted split points
   * (core/total-order.ts) instead of hashing it; numPartitions must exceed their count.
   */
  readonly splitPoints?: readonly string[];
  /**
   * When counting stops, hand the counted lines (distinct lines in first-arrival order,
   * each with its count) to this instead of the plain lists: the byte sort buffer takes
   * over (core/external-sort.ts).
   */
  readonly onStopCounting?: (lines: readonly string[], counts: readonly number[]) => void;
}

/** Map output lines buffered by partition; see the module comment. */
export class SortBuffer {
  /** Estimated heap bytes held. */
  bytes = 0;
  /** Counting: the distinct lines, each with its slot in `tally`. Undefined once counting is off. */
  private slots: StringTable | undefined;
  private tally: number[] = [];
  /** Lines taken while counting, since the buffer was last emptied. */
  private counted = 0;
  /** Plain lists, one per partition (used once counting is off). */
  private parts: string[][];
  /** Set once a key had a byte below '\t' (whole-line order is then not key order). */
  private unsafe = false;
  private readonly R: number;
  private readonly partitionOf: ((line: string, numPartitions: number) => number) | undefined;
  private readonly splitPoints: readonly string[] | undefined;
  private readonly onStopCounting: SortBufferOptions['onStopCounting'];

  constructor(opts: SortBufferOptions) {
    if (!Number.isInteger(opts.numPartitions) || opts.numPartitions < 1) {
      throw new RangeError(`numPartitions must be a positive integer, got ${opts.numPartitions}`);
    }
    this.R = opts.numPartitions;
    this.partitionOf = opts.partitionOf;
    if (opts.splitPoints && opts.splitPoints.length >= this.R) {
      throw new RangeError(`${opts.splitPoints.length} split points need more than ${this.R} partitions`);
    }
    this.splitPoints = opts.splitPoints;
    this.onStopCounting = opts.onStopCounting;
    this.parts = this.emptyParts();
    if (opts.countRepeats ?? true) this.slots = new StringTable();
  }

  /** True while repeated lines are being counted. */
  get counting(): boolean {
    return this.slots !== undefined;
  }

  get isEmpty(): boolean {
    return this.slots !== undefined ? this.slots.size === 0 : this.parts.every((p) => p.length === 0);
  }

  /**
   * Buffer `lines[start..]` until the estimate passes `limitBytes`; returns the index
   * after the last line taken (lines.length when all were taken).
   */
  add(lines: string[], start: number, limitBytes: number): number {
    if (this.slots === undefined) return this.addPlain(lines, start, limitBytes);
    const slots = this.slots;
    const tally = this.tally;
    let bytes = this.bytes;
    let i = start;
    while (i < lines.length) {
      const line = lines[i++]!;
      // A new line is kept as a copy: it may be a view into a large chunk that it would keep alive.
      const slot = slots.add(line, detach);
      if (slot < tally.length) {
        tally[slot]!++;
        continue;
      }
      tally.push(1);
      bytes += line.length + COUNTED_OVERHEAD;
      if (bytes > limitBytes) break;
    }
    this.bytes = bytes;
    this.counted += i - start;
    if (!repeatsPayOff(this.counted, slots.size)) this.stopCounting();
    return i;
  }

  private addPlain(lines: string[], start: number, limitBytes: number): number {
    const parts = this.parts;
    let bytes = this.bytes;
    let i = start;
    while (i < lines.length && bytes <= limitBytes) {
      const line = lines[i++]!;
      parts[this.partition(line)]!.push(line);
      bytes += line.length + LINE_OVERHEAD;
    }
    this.bytes = bytes;
    return i;
  }

  /** Lines rarely repeat: move the counted lines to the plain lists and count no more. */
  private stopCounting(): void {
    const slots = this.slots!;
    const tally = this.tally;
    this.slots = undefined;
    this.tally = [];
    this.bytes = 0;
    const lines = slots.keys;
    if (this.onStopCounting) {
      this.unsafe = false;
      this.onStopCounting(lines, tally);
      return;
    }
    for (let slot = 0; slot < lines.length; slot++) {
      const line = lines[slot]!;
      const list = this.parts[this.partition(line)]!;
      for (let n = tally[slot]!; n > 0; n--) list.push(line);
      this.bytes += tally[slot]! * (line.length + LINE_OVERHEAD);
    }
  }

  /**
   * The partition of a line's key: FNV-1a over the key's bytes (or the total-order
   * split point search), in the same pass that checks that whole-line order is key
   * order (true unless a key byte is below '\t').
   */
  private partition(line: string): number {
    if (this.partitionOf) return this.partitionOf(line, this.R);
    if (this.splitPoints) return this.totalOrder(line, this.splitPoints);
    if (this.R === 1) {
      if (!this.unsafe) this.checkKey(line);
      return 0;
    }
    let h = FNV_OFFSET;
    for (let j = 0; j < line.length; j++) {
      const c = line.charCodeAt(j);
      if (c <= 9) {
        if (c === 9) break;
        this.unsafe = true;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
    }
    return (h >>> 0) % this.R;
  }

  /** Scan the key (marking the buffer unsafe on a byte below '\t') and route it by the split points. */
  private totalOrder(line: string, points: readonly string[]): number {
    let j = 0;
    for (; j < line.length; j++) {
      const c = line.charCodeAt(j);
      if (c <= 9) {
        if (c === 9) break;
        this.unsafe = true;
      }
    }
    return totalOrderPartition(j === line.length ? line : line.slice(0, j), points);
  }

  private checkKey(line: string): void {
    for (let j = 0; j < line.length; j++) {
      const c = line.charCodeAt(j);
      if (c <= 9) {
        if (c !== 9) this.unsafe = true;
        return;
      }
    }
  }

  /** Hand over the buffer as R key-sorted batch streams (sorted when first read); the buffer starts afresh. */
  take(): AsyncIterable<string[]>[] {
    this.bytes = 0;
    const slots = this.slots;
    if (slots === undefined) {
      const parts = this.parts;
      const safe = !this.unsafe;
      this.parts = this.emptyParts();
      this.unsafe = false;
      return parts.map((lines) => sortedBatches(lines, safe));
    }
    const tally = this.tally;
    // The window is over: judge it even if it ended before the probe (see core/repeats.ts).
    this.slots = repeatsPayOff(this.counted, slots.size, true) ? new StringTable() : undefined;
    this.tally = [];
    this.counted = 0;
    // Each partition's distinct lines with their counts alongside, so that the counts
    // follow the sort without a lookup per line (random accesses into a large table).
    const distinct = this.emptyParts();
    const counts = Array.from({ length: this.R }, (): number[] => []);
    const lines = slots.keys;
    for (let slot = 0; slot < lines.length; slot++) {
      const line = lines[slot]!;
      const p = this.partition(line);
      distinct[p]!.push(line);
      counts[p]!.push(tally[slot]!);
    }
    const safe = !this.unsafe;
    this.unsafe = false;
    return distinct.map((part, p) => expandedBatches(part, counts[p]!, safe));
  }

  private emptyParts(): string[][] {
    return Array.from({ length: this.R }, () => []);
  }
}

/** A partition's lines, sorted by key when first read, in batches. */
async function* sortedBatches(lines: string[], safe: boolean): AsyncIterable<string[]> {
  const sorted = sortByKey(lines, { wholeLineOrderIsKeyOrder: safe });
  for (let i = 0; i < sorted.length; i += DEFAULT_BATCH_LINES) yield sorted.slice(i, i + DEFAULT_BATCH_LINES);
}

/** Distinct lines sorted by key when first read, each written as many times as it was counted. */
async function* expandedBatches(distinct: string[], counts: number[], safe: boolean): AsyncIterable<string[]> {
  const order = sortOrderByKey(distinct, { wholeLineOrderIsKeyOrder: safe });
  let out: string[] = [];
  for (let i = 0; i < order.length; i++) {
    const line = distinct[order[i]!]!;
    for (let n = counts[order[i]!]!; n > 0; n--) {
      out.push(line);
      if (out.length >= DEFAULT_BATCH_LINES) {
        yield out;
        out = [];
      }
    }
  }
  if (out.length > 0) yield out;
}
