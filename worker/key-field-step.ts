/**
 * Where a job's Hadoop key-field settings meet the map and reduce attempts: one
 * object of batch converters, each undefined when the job does not need it (so
 * the default path does no extra work per line).
 */
import type { SortOptions } from '../core/external-sort.js';
import { settingsOf } from '../core/job-settings.js';
import type { JobConf } from '../core/jobconf-keys.js';
import { outputLine, shuffleCodecFor } from '../core/shuffle-key.js';

type Batch = (lines: string[]) => string[];

export interface KeyFieldHooks {
  /** Map output → shuffle lines (sort key in front). */
  readonly toShuffle?: Batch;
  /** The sorter's partition function. */
  readonly partitionOf?: SortOptions['partitionOf'];
  /** Shuffle lines → the lines the reducer reads. */
  readonly toReduceInput?: Batch;
  /** Wrap an executable combiner: it reads and writes map output lines, not shuffle lines. */
  readonly wrapCombiner?: (fn: (sorted: AsyncIterable<string[]>) => AsyncIterable<string[]>) => (
    sorted: AsyncIterable<string[]>,
  ) => AsyncIterable<string[]>;
  /** Final output lines of a map-only job, as TextOutputFormat writes them. */
  readonly mapOnlyOutput?: Batch;
  /** Final output lines of a reducer, as TextOutputFormat writes them. */
  readonly reduceOutput?: Batch;
}

async function* mapBatches(source: AsyncIterable<string[]>, f: Batch): AsyncIterable<string[]> {
  for await (const batch of source) yield f(batch);
}

/** The hooks of a job step's jobconf (core/steps.ts: the job-wide one with the step's overrides). */
export function keyFieldHooks(step: { readonly jobconf: JobConf }): KeyFieldHooks {
  const s = settingsOf(step);
  const codec = shuffleCodecFor(s);
  const mapOut = s.mapOutputSeparator !== '\t' || s.mapOutputKeyFields !== 1;
  const reduceOut = s.reduceOutputSeparator !== '\t' || s.reduceOutputKeyFields !== 1;
  const original: Batch | undefined = codec ? (lines) => lines.map(codec.original) : undefined;
  const toShuffle: Batch | undefined = codec ? (lines) => lines.map(codec.toShuffle) : undefined;
  return {
    toShuffle,
    partitionOf: codec?.partitionOf,
    toReduceInput: codec ? (lines) => lines.map(codec.toReduceInput) : undefined,
    wrapCombiner:
      original && toShuffle ? (fn) => (sorted) => mapBatches(fn(mapBatches(sorted, original)), toShuffle) : undefined,
    mapOnlyOutput: mapOut
      ? (lines) => lines.map((l) => outputLine(l, s.mapOutputSeparator, s.mapOutputKeyFields))
      : undefined,
    reduceOutput: reduceOut
      ? (lines) => lines.map((l) => outputLine(l, s.reduceOutputSeparator, s.reduceOutputKeyFields))
      : undefined,
  };
}
