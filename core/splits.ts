/**
 * Input splits: cutting input objects into byte ranges, and reading exactly the
 * lines a range owns.
 *
 * Line ownership (the Hadoop LineRecordReader rule): split [start, end) owns every
 * line whose FIRST byte lies in [start, end). Reading starts at max(0, start-1);
 * when start > 0, everything up to and including the first '\n' at offset >= start-1
 * is skipped (if the byte at start-1 is '\n' nothing is skipped, and the line at
 * `start` is owned). Lines are then emitted while they start before `end`; the last
 * one is read to its end even past `end` (up to the object's size). Every line of
 * the object is thus owned by exactly one split, whatever the split size.
 */

import { codecOf, decompress } from './compression.js';
import { LimitExceededError, MapReduceError } from './errors.js';
import { inputUriOf } from './input-uri.js';
import { carriageReturnsToLf, splitCarriageReturns } from './line-ends.js';
import { DEFAULT_SPLIT_SIZE, MIB } from './manifest-limits.js';
import type { InputSplit } from './model.js';
import { asBuffer, LineSplitter, markAsciiBatch } from './records.js';
import { type LineCutter, WholeLineCutter } from './whole-lines.js';

/** An input object as listed. */
export interface InputObject {
  bucket: string;
  key: string;
  size: number;
}

/**
 * Cut objects into splits of `splitSize` bytes (default 64 MiB), or of
 * ceil(totalBytes / numMappers) bytes when numMappers is given. Empty objects are
 * skipped (so an all-empty input gives []); compressed objects (`.gz`, `.bz2`, `.zst`,
 * `.deflate`) are one whole split each, and an unreadable compression suffix throws
 * UnsupportedCompressionError (./compression.ts).
 * The order is deterministic: by bucket and key, then by offset.
 */
export function computeSplits(
  objects: readonly InputObject[],
  opts: { splitSize?: number; numMappers?: number; maxSplits?: number } = {},
): InputSplit[] {
  const nonEmpty = objects.filter((o) => o.size > 0);
  const total = nonEmpty.reduce((sum, o) => sum + o.size, 0);
  let size = opts.splitSize ?? DEFAULT_SPLIT_SIZE;
  if (opts.numMappers !== undefined) size = Math.max(1, Math.ceil(total / opts.numMappers));
  if (!Number.isSafeInteger(size) || size < 1)
    throw new RangeError(`split size must be a positive integer, got ${size}`);
  const sorted = [...nonEmpty].sort((a, b) =>
    a.bucket !== b.bucket ? (a.bucket < b.bucket ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0,
  );
  const splits: InputSplit[] = [];
  const max = opts.maxSplits ?? Number.POSITIVE_INFINITY;
  for (const o of sorted) {
    const base = { bucket: o.bucket, key: o.key, objectSize: o.size };
    if (codecOf(o.key) !== undefined) {
      splits.push({ ...base, start: 0, end: o.size, gzip: true });
      if (splits.length > max) throw tooManySplits(nonEmpty, size, max);
      continue;
    }
    for (let start = 0; start < o.size; start += size) {
      splits.push({ ...base, start, end: Math.min(start + size, o.size), gzip: false });
      if (splits.length > max) throw tooManySplits(nonEmpty, size, max);
    }
  }
  return splits;
}

/** Stops before a huge plan is built: the count is computed, the splits are not. */
function tooManySplits(objects: readonly InputObject[], size: number, max: number): LimitExceededError {
  const count = objects.reduce((n, o) => n + (codecOf(o.key) !== undefined ? 1 : Math.ceil(o.size / size)), 0);
  return new LimitExceededError(
    `the input would make ${count} map tasks of ${size} bytes; the limit is ${max} per job. ` +
      'Use a larger splitSize, a smaller numMappers, or split the input into several jobs.',
    { context: { mapTasks: count, splitSize: size, limit: max } },
  );
}

/**
 * The line-ownership rule as a push parser. Feed it the object's bytes in order,
 * starting at offset max(0, start-1); it returns what `cutter` makes of the owned lines
 * (latin1 strings from a `LineSplitter`, byte blocks from a `WholeLineCutter`) and sets
 * `done` once the last owned line is complete (further input is ignored). At end of the
 * object call `end()` for a final line without '\n'.
 */
export class SplitFilter<T> {
  /** Offset of the next byte to be pushed. */
  private pos: number;
  private skipping: boolean;
  private finished = false;

  /** Owns the lines starting in [splitStart, splitEnd). */
  constructor(
    readonly splitStart: number,
    readonly splitEnd: number,
    private readonly lines: LineCutter<T>,
  ) {
    this.pos = Math.max(0, splitStart - 1);
    this.skipping = splitStart > 0;
    if (splitEnd <= splitStart) this.finished = true;
  }

  /** True once no more owned bytes can follow. */
  get done(): boolean {
    return this.finished;
  }

  /** Offset of the next byte the filter expects. */
  get position(): number {
    return this.pos;
  }

  push(chunk: Buffer): T[] {
    if (this.finished || chunk.length === 0) return [];
    let buf = chunk;
    if (this.skipping) {
      const nl = buf.indexOf(10);
      if (nl < 0) {
        this.pos += buf.length;
        // No '\n' in [start-1, end-1]: every line starting in the split began before it.
        if (this.pos >= this.splitEnd) this.finished = true;
        return [];
      }
      this.skipping = false;
      this.pos += nl + 1;
      buf = buf.subarray(nl + 1);
      if (this.pos >= this.splitEnd) {
        this.finished = true;
        return [];
      }
    }
    // Bytes before `end` all belong to owned lines.
    const inRange = Math.max(0, Math.min(buf.length, this.splitEnd - this.pos));
    const out = inRange > 0 ? this.lines.push(buf.subarray(0, inRange)) : [];
    this.pos += inRange;
    if (this.pos < this.splitEnd) return out;
    if (!this.lines.hasPartial) {
      // The byte at end-1 was '\n': the line starting at `end` is the next split's.
      this.finished = true;
      return out;
    }
    // Finish the last owned line past `end`.
    const rest = buf.subarray(inRange);
    const nl = rest.indexOf(10);
    const take = nl < 0 ? rest : rest.subarray(0, nl + 1);
    this.pos += take.length;
    const more = this.lines.push(take);
    if (nl >= 0) this.finished = true;
    for (const l of more) out.push(l);
    return out;
  }

  /** End of the object: the unfinished last owned line, if any. */
  end(): T[] {
    if (this.finished) return [];
    this.finished = true;
    return this.lines.end();
  }
}

/** The owned lines as latin1 strings. */
export class SplitLineFilter extends SplitFilter<string> {
  constructor(splitStart: number, splitEnd: number) {
    super(splitStart, splitEnd, new LineSplitter());
  }
}

/** Bytes the first range request of a split reads past its end (at most the `chunkSize`). */
export const READ_PAST_SPLIT_END = 64 * 1024;

/** Fetch bytes [start, endExclusive) of the split's object. */
export type FetchRange = (start: number, endExclusive: number) => AsyncIterable<Buffer | Uint8Array>;

/**
 * The lines a split owns, in batches. Requests [start-1, end + 64 KiB) first; only if
 * the last owned line runs past that are further ranges requested, `chunkSize` bytes
 * (default 1 MiB) and doubling, until its '\n' or the end of the object. A compressed
 * split (`gzip` set; the codec comes from the key's suffix) fetches the whole object
 * and emits every line. Lines end at LF, CR-LF or CR, as Hadoop's LineReader reads them.
 */
export async function* readSplitLines(
  split: InputSplit,
  fetchRange: FetchRange,
  opts: { chunkSize?: number } = {},
): AsyncIterable<string[]> {
  let splitter: LineSplitter | undefined;
  for await (const lines of readOwned(split, fetchRange, opts, () => (splitter = new LineSplitter({ trackAscii: true })))) {
    const batch = splitCarriageReturns(lines);
    // Every byte cut so far was ASCII, so are these lines (a module mapper skips its per-line check).
    if (splitter?.allAscii) markAsciiBatch(batch);
    yield batch;
  }
}

/**
 * The same records as `readSplitLines`, as bytes: blocks of whole lines, each record
 * ended by '\n' (CR-LF and lone CR ends made '\n', a final line without one given one),
 * straight from the fetched chunks without decoding. What an executable mapper reads.
 */
export async function* readSplitBytes(
  split: InputSplit,
  fetchRange: FetchRange,
  opts: { chunkSize?: number } = {},
): AsyncIterable<Buffer> {
  for await (const blocks of readOwned(split, fetchRange, opts, () => new WholeLineCutter())) {
    for (const block of blocks) yield carriageReturnsToLf(block);
  }
}

/** The LF lines a split owns, as `cutter` makes them. */
async function* readOwned<T>(
  split: InputSplit,
  fetchRange: FetchRange,
  opts: { chunkSize?: number },
  cutter: () => LineCutter<T>,
): AsyncIterable<T[]> {
  if (split.gzip) {
    // Every LF line of a compressed object, the codec chosen by its key (gzip when the key has no known suffix).
    yield* cutAll(cutter(), decompress(codecOf(split.key) ?? 'gzip', fetchRange(0, split.objectSize)));
    return;
  }
  const end = Math.min(split.end, split.objectSize);
  const filter = new SplitFilter(split.start, end, cutter());
  let size = Math.max(1, opts.chunkSize ?? MIB);
  let from = filter.position;
  // The first request reads a little past `end`: the last owned line almost always ends
  // there, so a map task needs no second round trip (Hadoop's LineReader reads on past
  // the split end in buffer-sized pieces too). Bytes past that line are left unread.
  let to = Math.min(end + Math.min(size, READ_PAST_SPLIT_END), split.objectSize);
  while (!filter.done && from < split.objectSize) {
    for await (const chunk of fetchRange(from, to)) {
      const lines = filter.push(asBuffer(chunk));
      if (lines.length > 0) yield lines;
      if (filter.done) break; // stops (and closes) the rest of this fetch
    }
    if (filter.done) return;
    if (filter.position !== to) {
      throw new MapReduceError(`Range read of ${inputUriOf(split)} ended at byte ${filter.position}`, {
        context: { bucket: split.bucket, key: split.key, start: from, end: to },
      });
    }
    from = to;
    to = Math.min(from + size, split.objectSize);
    size *= 2;
  }
  const last = filter.end();
  if (last.length > 0) yield last;
}

/** Everything a byte stream holds, cut by `cutter`, in non-empty batches. */
async function* cutAll<T>(cutter: LineCutter<T>, source: AsyncIterable<Buffer | Uint8Array>): AsyncIterable<T[]> {
  for await (const chunk of source) {
    const lines = cutter.push(asBuffer(chunk));
    if (lines.length > 0) yield lines;
  }
  const last = cutter.end();
  if (last.length > 0) yield last;
}
