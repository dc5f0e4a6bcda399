/**
 * The reduce side's shuffle fetch: this partition's slice of every committed map
 * output, with bounded concurrency and retries. A small slice is kept in memory
 * while the attempt's in-memory budget allows (no file, no open descriptor while it
 * is merged), a larger one goes to local disk, as Hadoop's fetcher does
 * (`mapreduce.reduce.shuffle.memory.limit.percent`).
 */
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { forEachLimit } from '../core/concurrency.js';
import { fileSegment, type Segment } from '../core/merge-passes.js';
import { readLineBatches } from '../core/records.js';

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
}

/** Facts about the fetch, for counters. */
export interface FetchStats {
  inMemory: number;
  onDisk: number;
  retries: number;
}

/**
 * Fetch every slice; returns one Segment per slice, in the order of `slices` (the
 * merge's tie order). `get(key, start, end)` reads a byte range of the map output.
 */
export async function fetchSlices(
  slices: readonly SliceRef[],
  get: (key: string, start: number, end: number) => Promise<Readable>,
  dir: string,
  opts: FetchOptions = DEFAULT_FETCH,
  signal?: AbortSignal,
): Promise<{ segments: Segment[]; stats: FetchStats }> {
  const segments = new Array<Segment>(slices.length);
  const stats: FetchStats = { inMemory: 0, onDisk: 0, retries: 0 };
  let memoryLeft = opts.memoryBudget;
  await forEachLimit(
    slices.map((s, i) => ({ s, i })),
    opts.concurrency,
    async ({ s, i }) => {
      const size = s.end - s.start;
      const toMemory = size <= opts.maxInMemorySlice && size <= memoryLeft;
      if (toMemory) memoryLeft -= size;
      for (let attempt = 1; ; attempt++) {
        signal?.throwIfAborted();
        const file = path.join(dir, `slice-${i}`);
        try {
          const body = await get(s.key, s.start, s.end);
          if (toMemory) {
            const chunks: Buffer[] = [];
            for await (const c of body) chunks.push(c as Buffer);
            segments[i] = memorySegment(Buffer.concat(chunks));
            stats.inMemory++;
          } else {
            await pipeline(body, createWriteStream(file));
            segments[i] = fileSegment(file, size);
            stats.onDisk++;
          }
          return;
        } catch (err) {
          await rm(file, { force: true });
          if (attempt >= opts.attempts || signal?.aborted) throw err;
          stats.retries++;
          await new Promise((r) => setTimeout(r, opts.retryBaseMs * 2 ** (attempt - 1)));
        }
      }
    },
  );
  return { segments, stats };
}

function memorySegment(bytes: Buffer): Segment {
  let held: Buffer | undefined = bytes;
  return {
    onDisk: false,
    open: () => {
      const b = held;
      held = undefined; // read once: the merge owns the bytes now
      return readLineBatches(
        (async function* () {
          if (b) yield b;
        })(),
      );
    },
    release: async () => {
      held = undefined;
    },
  };
}
