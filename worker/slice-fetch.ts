/**
 * The reduce side's shuffle fetch: this partition's slice of every committed map
 * output, with bounded concurrency and retries. A small slice is kept in memory
 * while the attempt's in-memory budget allows (no file, no open descriptor while it
 * is merged), a larger one goes to local disk, as Hadoop's fetcher does
 * (`mapreduce.reduce.shuffle.memory.limit.percent`).
 */
import { type FileHandle, open, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { forEachLimit } from '../core/concurrency.js';
import { fileSegment, type Segment } from '../core/merge-passes.js';

/** How slices are fetched. */
export interface FetchOptions {
  /** Slices downloaded at once (Hadoop's `mapreduce.reduce.shuffle.parallelcopies` is 5). */
  readonly concurrency: number;
  /** A slice up to this size is kept in memory (while `memoryBudget` allows). */
  readonly maxInMemorySlice: number;
  /** Bytes of slices kept in memory in all. */
  readonly memoryBudget: number;
  /** Tries per slice before the attempt fails. */
  readonly attempts: number;
  /** Delay before the first retry (doubled each time). */
  readonly retryBaseMs: number;
}

export const DEFAULT_FETCH: FetchOptions = {
  concurrency: 8,
  maxInMemorySlice: 1024 * 1024,
  memoryBudget: 32 * 1024 * 1024,
  attempts: 4,
  retryBaseMs: 200,
};

/** Where one slice lives: `length` bytes from `start` of object `key`. */
export interface SliceRef {
  readonly key: string;
  readonly start: number;
  readonly end: number;
  /** The map output is in the counted form (core/counted-lines.ts). */
  readonly counted?: boolean;
}

/** Facts about the fetch, for counters. */
export interface FetchStats {
  inMemory: number;
  onDisk: number;
  retries: number;
}

/**
 * Fetches slices in one or more rounds (an early reducer fetches each map's slice as the
 * map commits: worker/map-output-watch.ts), sharing one in-memory budget. Each slice is
 * fetched under its merge position `index`, unique across rounds; `segments()` returns them
 * in that order (the merge's tie order), so the output does not depend on the rounds.
 */
export class SliceFetcher {
  readonly stats: FetchStats = { inMemory: 0, onDisk: 0, retries: 0 };
  private readonly fetched = new Map<number, Segment>();
  private memoryLeft: number;

  /** `get(key, start, end)` reads a byte range of a map output. */
  constructor(
    private readonly get: (key: string, start: number, end: number) => Promise<Readable>,
    private readonly dir: string,
    private readonly opts: FetchOptions = DEFAULT_FETCH,
    private readonly signal?: AbortSignal,
  ) {
    this.memoryLeft = opts.memoryBudget;
  }

  /** Fetch these slices, at most `concurrency` at once. */
  async fetch(slices: readonly { readonly slice: SliceRef; readonly index: number }[]): Promise<void> {
    await forEachLimit(slices, this.opts.concurrency, ({ slice, index }) => this.fetchOne(slice, index));
  }

  /** Every slice fetched so far, by merge position. */
  segments(): Segment[] {
    return [...this.fetched.entries()].sort(([a], [b]) => a - b).map(([, seg]) => seg);
  }

  private async fetchOne(s: SliceRef, i: number): Promise<void> {
    const { opts, signal } = this;
    const size = s.end - s.start;
    const toMemory = size <= opts.maxInMemorySlice && size <= this.memoryLeft;
    if (toMemory) this.memoryLeft -= size;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      const file = path.join(this.dir, `slice-${i}`);
      try {
        const body = await this.get(s.key, s.start, s.end);
        if (toMemory) {
          const chunks: Buffer[] = [];
          for await (const c of body) chunks.push(c as Buffer);
          this.fetched.set(i, memorySegment(Buffer.concat(chunks), s.counted === true));
          this.stats.inMemory++;
        } else {
          await writeSlice(body, file, size);
          this.fetched.set(i, fileSegment(file, size, s.counted === true));
          this.stats.onDisk++;
        }
        return;
      } catch (err) {
        await rm(file, { force: true });
        if (attempt >= opts.attempts || signal?.aborted) throw err;
        this.stats.retries++;
        await new Promise((r) => setTimeout(r, opts.retryBaseMs * 2 ** (attempt - 1)));
      }
    }
  }
}

/** Bytes gathered before each write of a slice to its file. */
export const SLICE_WRITE_BYTES = 1024 * 1024;

/**
 * Write a GET's body to `file` in writes of up to SLICE_WRITE_BYTES, through one staging
 * buffer: the socket hands over chunks of 16-64 KiB, and one file write per chunk (a write
 * stream's) cost ~16× the writes, each a thread-pool round trip (8-10 % of a TeraSort
 * worker's busy samples were these writes). Each write is awaited before the buffer is
 * refilled, which also holds the socket back (the loop does not read meanwhile). A body
 * that ends short of (or past) `size` bytes throws, so the fetch retries it.
 */
async function writeSlice(body: Readable, file: string, size: number): Promise<void> {
  const fh = await open(file, 'w');
  try {
    const stage = Buffer.allocUnsafe(Math.min(SLICE_WRITE_BYTES, Math.max(1, size)));
    let staged = 0;
    let total = 0;
    for await (const c of body) {
      const chunk = c as Buffer;
      total += chunk.length;
      if (total > size) throw new Error(`slice ${file}: more than the ${size} bytes asked for`);
      let at = 0;
      while (at < chunk.length) {
        const n = chunk.copy(stage, staged, at);
        staged += n;
        at += n;
        if (staged === stage.length) {
          await writeAll(fh, stage, staged);
          staged = 0;
        }
      }
    }
    if (total !== size) throw new Error(`slice ${file}: ${total} of ${size} bytes received`);
    if (staged > 0) await writeAll(fh, stage, staged);
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, length: number): Promise<void> {
  for (let at = 0; at < length; ) {
    const { bytesWritten } = await fh.write(buf, at, length - at, null);
    at += bytesWritten;
  }
}

function memorySegment(bytes: Buffer, counted: boolean): Segment {
  let held: Buffer | undefined = bytes;
  return {
    counted,
    onDisk: false,
    open: () => {
      const b = held;
      held = undefined; // read once: the merge owns the bytes now
      return (async function* () {
        if (b) yield b;
      })();
    },
    release: async () => {
      held = undefined;
    },
  };
}
