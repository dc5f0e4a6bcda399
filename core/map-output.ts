/**
 * The intermediate file format, used for map output objects and for spill runs:
 * the R sorted partitions concatenated, each line followed by '\n' (latin1), plus
 * R+1 byte offsets kept outside the file (offsets[r]..offsets[r+1] is partition r).
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import type { ByteLines } from './byte-sort-buffer.js';
import { MapReduceError } from './errors.js';
import { readLineBatches } from './records.js';

/** Sorted records: a batch of line strings, or whole '\n'-ended lines as bytes. */
export type SortedBatch = string[] | ByteLines;

/** Lines are gathered into buffers of this size before a write: one syscall per few lines would dominate. */
const STAGE_BYTES = 1024 * 1024;
/**
 * The first staging buffer's size; each next one doubles up to STAGE_BYTES. A worker runs
 * thousands of tiny map tasks at large M: a full 1 MiB buffer for each (two, with the one
 * allocated after the last flush) was native memory churn that glibc kept, and the worker's
 * RSS grew with the number of map tasks it ran (docs/performance.md, scale_curve).
 */
const FIRST_STAGE_BYTES = 64 * 1024;
/**
 * Full-size staging buffers whose writes completed, for the next flush (of any writer in
 * the process): a map attempt flushed ~100 fresh 1 MiB buffers per 64 MiB of output, and
 * that external memory made V8 run full collections. Two are enough for one writer (one
 * filling while one is written); a few more for writers that overlap.
 */
const spareStages: Buffer[] = [];
const MAX_SPARE_STAGES = 4;

function reuseStage(b: Buffer): void {
  if (b.length === STAGE_BYTES && spareStages.length < MAX_SPARE_STAGES) spareStages.push(b);
}

/** What a closed PartitionedFileWriter wrote. */
export interface PartitionedFileInfo {
  /** R+1 byte offsets: partition r is offsets[r]..offsets[r+1]. */
  offsets: number[];
  bytes: number;
  records: number;
  /**
   * CRC-32 of the file's bytes (sent with its upload: S3 checks it, and the SDK need not compute
   * one); undefined when the writer was asked for none (a spill run, an upload to a store that
   * does not check it).
   */
  crc32: number | undefined;
}

/**
 * Writes sorted partitions, in partition order, into one file. Uses a single write
 * stream with backpressure; each batch is joined into one latin1 string and encoded
 * straight into a staging buffer of up to 1 MiB (no joining of joined batches, no Buffer per batch).
 */
export class PartitionedFileWriter {
  private stream: WriteStream | undefined;
  private error: Error | undefined;
  private readonly offsets: number[] = [0];
  private bytes = 0;
  private records = 0;
  /** Lines not yet written; allocated with the first lines after each flush, none before. */
  private stage: Buffer | undefined;
  private staged = 0;
  private nextStageBytes = FIRST_STAGE_BYTES;
  private crc = 0;
  private closed = false;

  /**
   * @param path file to create (truncated if it exists)
   * @param numPartitions if given, `close()` pads the offsets with empty partitions
   *   up to R, so callers may skip writing trailing empty partitions.
   * @param checksum compute the file's CRC-32 for its upload (@default true); a file that is
   *   never uploaded, or goes to a store that does not check it, skips ~0.45 CPU-ms per MiB.
   */
  constructor(
    readonly path: string,
    private readonly numPartitions?: number,
    private readonly checksum = true,
  ) {}

  /**
   * Append partition `partition`'s lines. Must be called in partition order; partitions
   * skipped over are recorded as empty.
   */
  async writePartition(partition: number, sorted: AsyncIterable<SortedBatch> | Iterable<SortedBatch>): Promise<void> {
    if (this.closed)
      throw new MapReduceError('PartitionedFileWriter: write after close', { context: { path: this.path } });
    const next = this.offsets.length - 1;
    if (!Number.isInteger(partition) || partition < next) {
      throw new MapReduceError(`Partitions must be written in order: got ${partition} after ${next - 1}`, {
        context: { path: this.path },
      });
    }
    if (this.numPartitions !== undefined && partition >= this.numPartitions) {
      throw new MapReduceError(`Partition ${partition} is out of range 0..${this.numPartitions - 1}`, {
        context: { path: this.path },
      });
    }
    while (this.offsets.length - 1 < partition) this.offsets.push(this.bytes);
    for await (const batch of sorted) {
      if (!Array.isArray(batch)) {
        await this.writeBytes(batch);
        continue;
      }
      if (batch.length === 0) continue;
      const text = batch.join('\n');
      // latin1 writes one byte per char, so chars are bytes; +1 for the last line's '\n'.
      const n = text.length + 1;
      this.bytes += n;
      this.records += batch.length;
      const stage = await this.makeRoom(n);
      this.staged += stage.write(text, this.staged, 'latin1');
      stage[this.staged++] = 0x0a;
    }
    this.offsets.push(this.bytes);
  }

  /** Whole lines as bytes, copied into the staging buffer (the caller may reuse its block once this returns). */
  private async writeBytes(b: ByteLines): Promise<void> {
    const n = b.bytes.length;
    if (n === 0) return;
    this.bytes += n;
    this.records += b.lines;
    const stage = await this.makeRoom(n);
    this.staged += b.bytes.copy(stage, this.staged);
  }

  /** The staging buffer with room for `n` more bytes: flushed when full, allocated lazily and growing. */
  private async makeRoom(n: number): Promise<Buffer> {
    if (this.stage && this.staged + n > this.stage.length) await this.flush();
    if (!this.stage) {
      const size = Math.max(n, this.nextStageBytes);
      // A spare full-size buffer is taken at once (no growth from FIRST_STAGE_BYTES): it is
      // already allocated, and the growth's 1 MiB of fresh buffers per writer brings V8's full
      // collections sooner (external memory).
      this.stage = size <= STAGE_BYTES ? spareStages.pop() : undefined;
      this.stage ??= Buffer.allocUnsafe(size);
      this.nextStageBytes = Math.min(STAGE_BYTES, 2 * this.nextStageBytes);
    }
    return this.stage;
  }

  /** Finish the file. Returns R+1 offsets, total bytes and records. */
  async close(): Promise<PartitionedFileInfo> {
    if (this.closed) throw new MapReduceError('PartitionedFileWriter: closed twice', { context: { path: this.path } });
    if (this.numPartitions !== undefined) {
      while (this.offsets.length - 1 < this.numPartitions) this.offsets.push(this.bytes);
    }
    await this.flush();
    this.closed = true;
    const stream = this.open();
    stream.end();
    await finished(stream);
    this.throwIfFailed();
    return { offsets: this.offsets.slice(), bytes: this.bytes, records: this.records, crc32: this.checksum ? this.crc : undefined };
  }

  /** Stop writing after a failure (the partial file is left for the caller to remove). */
  abort(): void {
    this.closed = true;
    this.stream?.destroy();
  }

  private open(): WriteStream {
    if (!this.stream) {
      const stream = createWriteStream(this.path, { highWaterMark: 1024 * 1024 });
      stream.on('error', (err) => {
        this.error ??= err;
      });
      this.stream = stream;
    }
    return this.stream;
  }

  /** A write error arrives on the stream's 'error' event, so it is checked after every await. */
  private throwIfFailed(): void {
    if (this.error) throw this.error;
  }

  private async flush(): Promise<void> {
    this.throwIfFailed();
    if (!this.stage || this.staged === 0) return;
    const stream = this.open();
    const full = this.stage.subarray(0, this.staged);
    if (this.checksum) this.crc = crc32(full, this.crc);
    // The stream holds the bytes until written: the next lines go to another buffer, and
    // this one is reused once written.
    const stage = this.stage;
    this.stage = undefined;
    this.staged = 0;
    const more = stream.write(full, (err) => {
      if (!err) reuseStage(stage);
    });
    if (!more) await once(stream, 'drain');
    this.throwIfFailed();
  }
}

/**
 * Batches of lines from bytes [start, endExclusive) of a local file (one partition of
 * a spill run or of a downloaded map output). Holds one read buffer of `highWaterMark`.
 */
export function readFileRange(
  path: string,
  start: number,
  endExclusive: number,
  opts: { highWaterMark?: number } = {},
): AsyncIterable<string[]> {
  if (endExclusive <= start) return emptyBatches();
  // createReadStream's `end` is inclusive.
  const stream = createReadStream(path, {
    start,
    end: endExclusive - 1,
    highWaterMark: opts.highWaterMark ?? 256 * 1024,
  });
  return readLineBatches(stream);
}

/** The raw bytes of one partition of a file written by PartitionedFileWriter (whole lines, for the byte merge). */
export function readPartitionBytes(
  path: string,
  offsets: readonly number[],
  partition: number,
  opts: { highWaterMark?: number } = {},
): AsyncIterable<Buffer> {
  const start = offsets[partition]!;
  const end = offsets[partition + 1]!;
  if (end <= start) return emptyBytes();
  return createReadStream(path, { start, end: end - 1, highWaterMark: opts.highWaterMark ?? 256 * 1024 });
}

async function* emptyBytes(): AsyncIterable<Buffer> {}

/** Batches of one partition of a file written by PartitionedFileWriter. */
export function readPartition(
  path: string,
  offsets: readonly number[],
  partition: number,
  opts: { highWaterMark?: number } = {},
): AsyncIterable<string[]> {
  return readFileRange(path, offsets[partition]!, offsets[partition + 1]!, opts);
}

/** An async iterable that yields nothing. */
async function* emptyBatches(): AsyncIterable<string[]> {}
