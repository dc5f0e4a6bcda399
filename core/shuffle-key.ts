/**
 * The shuffle line of a job with Hadoop key fields.
 *
 * The shuffle sorts, merges and groups lines by the text before their first tab.
 * When a job sets key fields, separators, a KeyFieldBasedComparator or a
 * KeyFieldBasedPartitioner, each map output line travels as
 *
 *     sortKey <TAB> original map output line
 *
 * where `sortKey` (./key-fields.ts) sorts in the comparator's order. Sorting,
 * merging and grouping then need no change; the partition is taken from the
 * ORIGINAL key (`partitionOf`), and the reducer gets the original line back with
 * Hadoop's reduce input separator between key and value (`toReduceInput`).
 * Jobs without any of these settings never pay for this: `shuffleCodecFor` returns
 * undefined and lines travel as they are.
 */
import { usesKeyFields, type StreamingSettings } from './jobconf.js';
import { partitionKeyOf, sortKeyOf, splitKeyValueAt } from './key-fields.js';
import { partitionOf as hashPartition } from './partition.js';

/** Converts map output lines to shuffle lines and back. */
export interface ShuffleCodec {
  /** Map output line → shuffle line. */
  readonly toShuffle: (line: string) => string;
  /** The reduce partition of a SHUFFLE line. */
  readonly partitionOf: (shuffleLine: string, numPartitions: number) => number;
  /** Shuffle line → the line the reducer reads (key, reduce input separator, value). */
  readonly toReduceInput: (shuffleLine: string) => string;
  /** Shuffle line → the original map output line (for a combiner). */
  readonly original: (shuffleLine: string) => string;
}

/** The codec for these settings, or undefined when lines can travel unchanged. */
export function shuffleCodecFor(s: StreamingSettings): ShuffleCodec | undefined {
  if (!usesKeyFields(s)) return undefined;
  const sep = s.mapOutputSeparator;
  const n = s.mapOutputKeyFields;
  const keyOf = (line: string): [key: string, valueStart: number] => {
    const [keyEnd, valueStart] = splitKeyValueAt(line, sep, n);
    return [line.slice(0, keyEnd), valueStart];
  };
  const original = (shuffleLine: string): string => shuffleLine.slice(shuffleLine.indexOf('\t') + 1);
  const sameSeparators = s.reduceInputSeparator === sep;
  return {
    toShuffle: (line) => `${sortKeyOf(keyOf(line)[0], s.comparator, s.keyFieldSeparator)}\t${line}`,
    partitionOf: (shuffleLine, numPartitions) => {
      const key = keyOf(original(shuffleLine))[0];
      const hashed = s.partitioner ? partitionKeyOf(key, s.partitioner, s.keyFieldSeparator) : key;
      return hashPartition(hashed, numPartitions);
    },
    toReduceInput: (shuffleLine) => {
      const line = original(shuffleLine);
      if (sameSeparators) return line;
      const [key, valueStart] = keyOf(line);
      return valueStart < 0 ? key : `${key}${s.reduceInputSeparator}${line.slice(valueStart)}`;
    },
    original,
  };
}

/**
 * A task's output line as Hadoop's TextOutputFormat writes it: the line split by the
 * output separator and key field count (`stream.reduce.output.field.separator` /
 * `stream.num.reduce.output.key.fields`, or the map-side pair for a map-only job),
 * then written as key TAB value. With the default tab / 1 field the line is unchanged.
 * A line with fewer separators is all key and is written as it is (Hadoop would add a
 * trailing tab; see docs/hadoop-streaming.md).
 */
export function outputLine(line: string, separator: string, numKeyFields: number): string {
  if (separator === '\t' && numKeyFields === 1) return line;
  const [keyEnd, valueStart] = splitKeyValueAt(line, separator, numKeyFields);
  return valueStart < 0 ? line : `${line.slice(0, keyEnd)}\t${line.slice(valueStart)}`;
}
