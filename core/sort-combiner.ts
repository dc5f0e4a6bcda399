/**
 * The map side's combiner, run over each sorted run and over the final merge
 * (core/external-sort.ts), as Hadoop runs it: on decoded lines, a key's lines at a time
 * (a module's `combine`) or the whole sorted stream (an external combiner process).
 */
import { MapReduceError } from './errors.js';
import { linesOf } from './byte-merge.js';
import type { SortedBatch } from './map-output.js';
import { combineByteGroups } from './byte-combine-groups.js';
import { combineGroups } from './merge.js';
import { detach, hasKey, valueAfterKey } from './records.js';

/**
 * Combines one key's values; returns output LINES (`key\tvalue`) whose keys must be unchanged.
 * `ascii`: the caller knows the key and every value are ASCII (the same chars in latin1 and
 * UTF-8), so a module combiner need not check them before handing them to user code.
 */
export type GroupCombiner = (key: string, values: string[], ascii?: boolean) => string[] | Promise<string[]>;
/** Combines a whole sorted stream (e.g. an external combiner process); its output must stay sorted. */
export type StreamCombiner = (sortedLines: AsyncIterable<string[]>) => AsyncIterable<string[]>;
/** A map-side combiner of either kind. */
export type SortCombiner = { kind: 'group'; fn: GroupCombiner } | { kind: 'stream'; fn: StreamCombiner };

/** The combiner's record counters (Hadoop's COMBINE_INPUT_RECORDS / COMBINE_OUTPUT_RECORDS). */
export interface CombineCounts {
  combineInputRecords: number;
  combineOutputRecords: number;
}

/**
 * Pass a sorted stream through the combiner, if there is one, counting records into
 * `stats` (blocks are decoded to lines for it). A group combiner that changes a key fails
 * the attempt: the output would no longer be sorted.
 */
export function combinedBatches(
  sorted: AsyncIterable<SortedBatch>,
  combiner: SortCombiner | undefined,
  stats: CombineCounts,
): AsyncIterable<SortedBatch> {
  if (combiner === undefined) return sorted;
  if (combiner.kind === 'group') return groupCombined(sorted, (k, l) => combineGroup(combiner.fn, k, l, stats));
  const lines = asLines(sorted);
  const fn = combiner.fn;
  async function* counted(): AsyncIterable<string[]> {
    for await (const b of lines) {
      stats.combineInputRecords += b.length;
      yield b;
    }
  }
  async function* outCounted(): AsyncIterable<string[]> {
    for await (const b of fn(counted())) {
      stats.combineOutputRecords += b.length;
      yield b;
    }
  }
  return outCounted();
}

/** Run the group combiner on one key's lines; validates that keys are unchanged. */
function combineGroup(fn: GroupCombiner, key: string, lines: string[], stats: CombineCounts): string[] | Promise<string[]> {
  const values = lines.map((l) => valueAfterKey(l, key.length));
  stats.combineInputRecords += lines.length;
  const out = fn(key, values);
  return out instanceof Promise ? out.then((o) => checkCombined(key, o, stats)) : checkCombined(key, out, stats);
}

function checkCombined(key: string, out: string[], stats: CombineCounts): string[] {
  for (let i = 0; i < out.length; i++) {
    const line = out[i]!;
    if (!hasKey(line, key)) {
      throw new MapReduceError(`The combiner changed key "${key}" into a line with another key: "${line}"`, {
        context: { key },
      });
    }
    out[i] = detach(line);
  }
  stats.combineOutputRecords += out.length;
  return out;
}

/**
 * A group combiner over a sorted stream: on bytes when it comes as blocks (lines without a
 * neighbour of their key pass undecoded, core/byte-combine-groups.ts), else on line strings.
 */
async function* groupCombined(
  sorted: AsyncIterable<SortedBatch>,
  combine: (key: string, lines: string[]) => string[] | Promise<string[]>,
): AsyncIterable<SortedBatch> {
  const it = sorted[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  async function* all(): AsyncIterable<SortedBatch> {
    yield first.value;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  }
  if (Array.isArray(first.value)) yield* combineGroups(asLines(all()), combine);
  else yield* combineByteGroups(all(), combine);
}

/** Sorted batches as line strings (blocks decoded once each). */
async function* asLines(sorted: AsyncIterable<SortedBatch>): AsyncIterable<string[]> {
  for await (const b of sorted) yield Array.isArray(b) ? b : linesOf(b.bytes);
}
