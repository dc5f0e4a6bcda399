/**
 * k-way merge of key-sorted line streams, and grouping of a sorted stream by key.
 * Both work on batches: the async machinery runs once per batch, not per line.
 */
import { hasKey, keyOf } from './records.js';
import { PiecewiseGroup } from './piecewise-group.js';

/** Default number of lines per output batch. */
export const DEFAULT_BATCH_LINES = 8192;

interface Cursor {
  readonly it: AsyncIterator<string[]>;
  /** Position of the source in the input list: breaks ties so the merge is deterministic. */
  readonly index: number;
  batch: string[];
  pos: number;
  /** Key of batch[pos]. */
  key: string;
  /** Key of the batch's last line: lets a whole batch be copied when it sorts before every other head. */
  lastKey: string;
}

/** Heap order: smaller key first, then smaller source index. */
function before(a: Cursor, b: Cursor): boolean {
  return a.key < b.key || (a.key === b.key && a.index < b.index);
}

function siftDown(heap: Cursor[], i: number): void {
  const n = heap.length;
  const item = heap[i]!;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= n) break;
    const r = l + 1;
    const c = r < n && before(heap[r]!, heap[l]!) ? r : l;
    if (!before(heap[c]!, item)) break;
    heap[i] = heap[c]!;
    i = c;
  }
  heap[i] = item;
}

/** Load the cursor's next non-empty batch; false at the end of its source. */
async function refill(c: Cursor): Promise<boolean> {
  for (;;) {
    const r = await c.it.next();
    if (r.done) return false;
    if (r.value.length === 0) continue;
    c.batch = r.value;
    c.pos = 0;
    c.key = keyOf(r.value[0]!);
    c.lastKey = keyOf(r.value[r.value.length - 1]!);
    return true;
  }
}

/**
 * Merge sources that are each sorted by key (byte order) into one key-sorted stream,
 * in batches of about `batchSize` lines. Equal keys come out in source order.
 * Uses a binary heap; when one source's whole remaining batch sorts before every
 * other source's head, the batch is copied without per-line heap work.
 */
export async function* mergeSorted(
  sources: AsyncIterable<string[]>[],
  opts: { batchSize?: number } = {},
): AsyncIterable<string[]> {
  const batchSize = Math.max(1, opts.batchSize ?? DEFAULT_BATCH_LINES);
  const cursors = sources.map(
    (s, index): Cursor => ({ it: s[Symbol.asyncIterator](), index, batch: [], pos: 0, key: '', lastKey: '' }),
  );
  try {
    // Start every source at once: remote sources then fetch in parallel.
    const live = await Promise.all(cursors.map(refill));
    const heap = cursors.filter((_, i) => live[i]);
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(heap, i);
    let out: string[] = [];
    while (heap.length > 1) {
      const top = heap[0]!;
      const batch = top.batch;
      const l = heap[1]!;
      const r = heap[2];
      const next = r !== undefined && before(r, l) ? r : l;
      if (top.lastKey < next.key || (top.lastKey === next.key && top.index < next.index)) {
        // Everything left in this batch sorts before the other heads.
        for (let i = top.pos; i < batch.length; i++) out.push(batch[i]!);
        top.pos = batch.length;
      } else {
        out.push(batch[top.pos]!);
        top.pos++;
      }
      if (top.pos < batch.length) {
        top.key = keyOf(batch[top.pos]!);
        if (!before(top, next)) siftDown(heap, 0);
      } else if (await refill(top)) {
        siftDown(heap, 0);
      } else {
        heap[0] = heap[heap.length - 1]!;
        heap.pop();
        siftDown(heap, 0);
      }
      if (out.length >= batchSize) {
        yield out;
        out = [];
      }
    }
    // One source left: pass its batches through.
    const last = heap[0];
    if (last !== undefined) {
      for (let i = last.pos; i < last.batch.length; i++) out.push(last.batch[i]!);
      if (out.length > 0) yield out;
      out = [];
      while (await refill(last)) yield last.batch;
    } else if (out.length > 0) {
      yield out;
    }
  } finally {
    // Stop sources that were not drained (consumer stopped early, or an error).
    await Promise.allSettled(cursors.map(async (c) => c.it.return?.()));
  }
}

/** One run of lines with the same key. */
export type KeyRun = [key: string, lines: string[]];

/**
 * Runs of equal key from a key-sorted stream, a batch of runs at a time. A run that
 * reaches the end of an input batch is held back and continued with the next batch,
 * unless it already has `maxRunLines` lines; so a huge group arrives in several runs.
 * Consumers MUST treat adjacent runs with the same key as one group.
 */
export async function* groupBatches(
  sorted: AsyncIterable<string[]>,
  opts: { maxRunLines?: number } = {},
): AsyncIterable<KeyRun[]> {
  const maxRun = Math.max(1, opts.maxRunLines ?? 65536);
  let carry: KeyRun | undefined;
  for await (const batch of sorted) {
    if (batch.length === 0) continue;
    const out: KeyRun[] = [];
    let i = 0;
    if (carry !== undefined) {
      const [key, lines] = carry;
      while (i < batch.length && hasKey(batch[i]!, key)) lines.push(batch[i++]!);
      if (i < batch.length || lines.length >= maxRun) {
        out.push(carry);
        carry = undefined;
      }
    }
    while (i < batch.length) {
      const key = keyOf(batch[i]!);
      const start = i++;
      while (i < batch.length && hasKey(batch[i]!, key)) i++;
      const run: KeyRun = [key, batch.slice(start, i)];
      if (i < batch.length || run[1].length >= maxRun) out.push(run);
      else carry = run;
    }
    if (out.length > 0) yield out;
  }
  if (carry !== undefined) yield [carry];
}

/**
 * Consecutive runs of equal key, one run per iteration. A key's run may be split
 * across several yields (huge groups, see groupBatches): the consumer must treat
 * adjacent yields with equal key as one group. Prefer groupBatches on hot paths.
 */
export async function* groups(sorted: AsyncIterable<string[]>): AsyncIterable<KeyRun> {
  for await (const runs of groupBatches(sorted)) yield* runs;
}

/** Re-batch a sorted in-memory array as an async stream of batches. */
export async function* batchesOf(lines: readonly string[], size = DEFAULT_BATCH_LINES): AsyncIterable<string[]> {
  for (let i = 0; i < lines.length; i += size) yield lines.slice(i, i + size);
}

/** Chars of the line's key: up to its first tab, or the whole line. */
function keyLength(line: string): number {
  const tab = line.indexOf('\t');
  return tab < 0 ? line.length : tab;
}

/** True when `line`'s key is the first `n` chars of `head` (`n` = head's key length), without allocating. */
function sameKey(line: string, head: string, n: number): boolean {
  if (line.length < n || (line.length > n && line.charCodeAt(n) !== 9)) return false;
  for (let i = 0; i < n; i++) if (line.charCodeAt(i) !== head.charCodeAt(i)) return false;
  return true;
}

/**
 * Apply a per-key combine function to a key-sorted stream: every group of two or more
 * lines (adjacent lines of one key, across batches) is replaced by `combine(key, lines)`;
 * single lines pass through. A huge group is combined piecewise every `combineAt` lines
 * (default 4096, doubled when combining does not halve it), so memory stays bounded.
 *
 * One pass over the lines: a key's line that has no neighbour of the same key (most
 * lines when keys are near-distinct, e.g. a word count over a large vocabulary after
 * map-side aggregation) costs a key-length scan and a char comparison, no allocation
 * and no await. The piecewise checks fall where `groupBatches` (with `maxRunLines` =
 * `combineAt`) ends a run: at a key change, and at a batch end once the run has
 * `combineAt` lines; so the combiner sees the same calls as a consumer of those runs.
 */
export async function* combineGroups(
  sorted: AsyncIterable<string[]>,
  combine: (key: string, lines: string[]) => string[] | Promise<string[]>,
  opts: { combineAt?: number; batchSize?: number } = {},
): AsyncIterable<string[]> {
  const batchSize = opts.batchSize ?? DEFAULT_BATCH_LINES;
  const maxRun = Math.max(2, opts.combineAt ?? 4096);
  let out: string[] = [];
  /** The open group's first line and its key length ('' / -1: no open group). */
  let head = '';
  let headKey = -1;
  /** The open group once it has two lines (`run`: its lines since the last run end, see above). */
  const group = new PiecewiseGroup(combine, maxRun);
  /** Hand on the open group of two or more lines, combined. */
  const closeGroup = async (): Promise<void> => {
    for (const l of await group.close()) out.push(l);
  };
  for await (const batch of sorted) {
    for (let i = 0; i < batch.length; i++) {
      const line = batch[i]!;
      if (headKey >= 0 && sameKey(line, head, headKey)) {
        if (group.lines === undefined) group.open(head.slice(0, headKey), head, line);
        else group.lines.push(line);
        group.run++;
        continue;
      }
      // A single line passes straight through (no await: most groups, when keys rarely repeat).
      if (group.lines === undefined) {
        if (headKey >= 0) out.push(head);
      } else await closeGroup();
      head = line;
      headKey = keyLength(line);
      group.run = 1;
    }
    if (headKey >= 0 && group.run >= maxRun) await group.runEnd();
    if (out.length >= batchSize) {
      yield out;
      out = [];
    }
  }
  if (group.lines !== undefined) await closeGroup();
  else if (headKey >= 0) out.push(head);
  if (out.length > 0) yield out;
}
