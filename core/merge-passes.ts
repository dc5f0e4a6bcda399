/**
 * The reduce-side merge with a bounded fan-in, as Hadoop's `mapreduce.task.io.sort.factor`:
 * at most `factor` sorted segments are read at once. With more segments, consecutive
 * segments are first merged into files on local disk (intermediate merges) until
 * `factor` are left; the last merge streams to the reducer. Memory and open files are
 * O(factor), whatever the number of map outputs.
 *
 * Merging CONSECUTIVE segments and putting the result in their place keeps the
 * output identical to a single merge of everything: `mergeSortedBytes` breaks key ties by
 * source position, so a merged run of neighbours sorts exactly like its members.
 *
 * ```
 *  12 segments, factor 4:  [0 1 2 3] 4 5 6 7 8 9 10 11     merge 4 → 9 left
 *                           A [4 5 6 7] 8 9 10 11          merge 4 → 6 left
 *                           A B [8 9 10] 11                merge 3 → 4 left
 *                           A B C 11                       final merge, streamed
 * ```
 * Each record is written to disk at most once here; with more segments than factor²
 * the intermediate files are merged again in a next round.
 *
 * An intermediate merge whose inputs are all in memory (small fetched slices, earlier
 * in-memory runs) keeps its output in memory too, as compact buffers of exactly its bytes,
 * while the in-memory runs held stay within `memoryBudget`; a merge that outgrows it goes on
 * to a file (what it has merged so far written first). As Hadoop's memory-to-memory merger
 * (MergeManagerImpl's IntermediateMemoryToMemoryMerger, there off by default): its output
 * reserves memory like a fetched map output. So a reducer of many tiny slices (M = 2,048)
 * opens no run file at all, where the final merge used to read ~8 of them, while large
 * slices (on disk) still merge through disk with bounded memory.
 *
 * Segments in the counted form (core/counted-lines.ts: each distinct line once with its
 * count) are merged as such while every segment of a merge is counted, and the output is
 * expanded to plain lines only at the end, for the reducer; a merge that meets a plain
 * segment expands the counted ones as it reads them.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import { open as openFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { type LineBlock, mergeSortedBytes } from './byte-merge.js';
import { expandedBytes, expandMerged } from './counted-lines.js';
import { copied, RunBudget } from './merge-memory-runs.js';
import { type MergeStats, newMergeStats, type Segment } from './merge-segment.js';

export { type MergeStats, newMergeStats, type Segment } from './merge-segment.js';

/** Hadoop's default `mapreduce.task.io.sort.factor` is 10; we read more streams at once (they are small). */
export const DEFAULT_SORT_FACTOR = 64;

/**
 * Bytes of in-memory intermediate runs one merge holds at once (`mergeSegments`'
 * `memoryBudget`): the fetch's own in-memory budget (worker/slice-fetch.ts, 32 MiB), since a
 * run of plain lines is as large as the in-memory slices it replaces.
 */
export const DEFAULT_MEMORY_RUN_BUDGET = 32 * 1024 * 1024;

/** A block of the merge's output: plain lines, and the bytes of merged input they account for. */
export interface MergedBlock extends LineBlock {
  /** Bytes of the segments' stored form (counted or plain) these lines came from, for progress. */
  readonly stored: number;
}

/** Bytes read from a segment file at once (a merge reads at most `factor` files at once). */
const READ_BYTES = 256 * 1024;

/**
 * A local file of sorted lines as a segment. A plain one is read into one buffer, reused for
 * every read: each chunk is valid only until the next one is asked for, which is how the
 * merge's cursor (core/merge-cursor.ts) reads (it copies the partial line it carries), and
 * it spares a fresh `readBytes` of external memory per read (full collections). A counted
 * one is read as a stream of fresh chunks (its expansion may hold on to them). `onOpen` is
 * called when the file is open for reading.
 */
export function fileSegment(path: string, bytes: number, counted = false, readBytes = READ_BYTES, onOpen?: () => void): Segment {
  const read = () => {
    if (!counted) return readReused(path, bytes, readBytes, onOpen);
    const stream = createReadStream(path, { start: 0, end: bytes - 1, highWaterMark: readBytes });
    if (onOpen) stream.once('open', onOpen);
    return stream;
  };
  return {
    counted,
    open: () => (bytes > 0 ? read() : noBytes()),
    onDisk: true,
    release: () => rm(path, { force: true }),
  };
}

async function* noBytes(): AsyncIterable<Buffer> {}

/** The first `bytes` of a file, read into one buffer of `readBytes` (see `fileSegment`). */
async function* readReused(path: string, bytes: number, readBytes: number, onOpen?: () => void): AsyncIterable<Buffer> {
  const file = await openFile(path, 'r');
  onOpen?.();
  try {
    const buf = Buffer.allocUnsafe(Math.min(readBytes, bytes));
    for (let pos = 0; pos < bytes; ) {
      const { bytesRead } = await file.read(buf, 0, Math.min(buf.length, bytes - pos), pos);
      if (bytesRead === 0) throw new Error(`${path} ended at byte ${pos} of the ${bytes} expected`);
      pos += bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await file.close();
  }
}

/** Write the blocks to a new file; returns its size. */
async function writeBlocks(path: string, blocks: AsyncIterable<LineBlock>): Promise<number> {
  const out = createWriteStream(path);
  const failed = once(out, 'error').then(([err]) => {
    throw err;
  });
  failed.catch(() => {});
  let bytes = 0;
  try {
    for await (const b of blocks) {
      bytes += b.bytes.length;
      if (!out.write(b.bytes)) await Promise.race([once(out, 'drain'), failed]);
    }
    out.end();
    await Promise.race([finished(out), failed]);
    return bytes;
  } finally {
    out.destroy();
  }
}

/**
 * Merge `segments` (each sorted by key) into one sorted stream reading at most `factor`
 * at once; intermediate files go to `tmpDir` and are deleted once merged. Equal keys
 * come out in segment order, as from `mergeSorted(all)`.
 */
export async function* mergeSegments(
  segments: readonly Segment[],
  opts: {
    factor: number;
    tmpDir: string;
    stats?: MergeStats;
    /**
     * Plain (not counted) output blocks share one buffer, valid only until the next block is
     * asked for (`mergeSortedBytes`' `reuseBlocks`): for a consumer done with each block when
     * it asks for the next, as the part writer's awaited write. Spares 512 KiB of fresh
     * external memory per block (full collections).
     */
    reuseBlocks?: boolean;
    /**
     * Plain output blocks carry their `LineIndex` (`mergeSortedBytes`' `lineIndex`), valid
     * until the next block is asked for; counted ones (expanded after the merge) do not.
     */
    lineIndex?: boolean;
    /**
     * Bytes of in-memory runs held at once (default DEFAULT_MEMORY_RUN_BUDGET; 0: every
     * intermediate merge goes to a file).
     */
    memoryBudget?: number;
    /**
     * Called where the merge may hold the most descriptors: when it opens one of its
     * intermediate files for reading (a small one is closed again as soon as it is read, so
     * the merge's files are open together only around their opening), and once per merge at
     * its first output block (every input opened; large files still open).
     */
    onInputsOpen?: () => void;
  },
): AsyncIterable<MergedBlock> {
  const factor = Math.max(2, Math.floor(opts.factor));
  const stats = opts.stats ?? newMergeStats();
  const list = [...segments];
  const budget = new RunBudget(opts.memoryBudget ?? DEFAULT_MEMORY_RUN_BUDGET, stats);
  let seq = 0;
  try {
    let i = 0;
    while (list.length > factor) {
      if (i >= list.length - 1) i = 0; // next round over the intermediate files
      const k = Math.min(factor, list.length - factor + 1, list.length - i);
      const group = list.slice(i, i + k);
      const path = join(opts.tmpDir, `merge-${process.pid}-${seq++}.run`);
      // A group of counted segments is merged counted (and stays so); any other as plain lines.
      const counted = allCounted(group);
      try {
        // Inputs all in memory: the run stays in memory while the budget allows (its blocks are
        // copied to their exact size, so the merge reuses one block buffer).
        const inMemory = budget.open && group.every((s) => !s.onDisk);
        const merged = openedOnce(mergeSortedBytes(open(group, stats, counted), { counted, reuseBlocks: inMemory }), opts.onInputsOpen);
        const run = inMemory ? await budget.collect(merged, counted) : undefined;
        if (run !== undefined && 'segment' in run) {
          stats.memoryMerges++;
          list.splice(i, k, run.segment);
        } else {
          const bytes = await writeBlocks(path, run !== undefined ? copied(run.held, run.rest) : merged);
          stats.intermediateMerges++;
          stats.intermediateBytes += bytes;
          list.splice(i, k, fileSegment(path, bytes, counted, READ_BYTES, opts.onInputsOpen));
        }
      } catch (err) {
        await rm(path, { force: true });
        throw err;
      }
      await Promise.all(group.map((s) => s.release()));
      i++;
    }
    if (allCounted(list)) {
      // The copies are made here, after the merge, for the reducer.
      yield* expandMerged(openedOnce(mergeSortedBytes(open(list, stats, true), { counted: true }), opts.onInputsOpen));
    } else {
      const merged = mergeSortedBytes(open(list, stats, false), { reuseBlocks: opts.reuseBlocks, lineIndex: opts.lineIndex });
      for await (const b of openedOnce(merged, opts.onInputsOpen)) yield { ...b, stored: b.bytes.length };
    }
  } finally {
    await Promise.allSettled(list.map((s) => s.release()));
  }
}

/** True when every segment is counted (and there is one): they are merged in the counted form. */
function allCounted(group: readonly Segment[]): boolean {
  return group.length > 0 && group.every((s) => s.counted === true);
}

/** Open the segments for a merge: counted ones expanded to plain lines unless the merge is `counted`. */
function open(group: readonly Segment[], stats: MergeStats, counted: boolean): AsyncIterable<Buffer>[] {
  stats.maxOpenSegments = Math.max(stats.maxOpenSegments, group.length);
  stats.maxOpenFiles = Math.max(stats.maxOpenFiles, group.filter((s) => s.onDisk).length);
  return group.map((s) => (s.counted === true && !counted ? expandedBytes(s.open()) : s.open()));
}

/** The blocks, calling `onFirst` once before the first is handed on (the merge has opened every input by then). */
function openedOnce<T>(blocks: AsyncIterable<T>, onFirst: (() => void) | undefined): AsyncIterable<T> {
  if (onFirst === undefined) return blocks;
  return (async function* () {
    let first = true;
    for await (const b of blocks) {
      if (first) {
        first = false;
        onFirst();
      }
      yield b;
    }
  })();
}
