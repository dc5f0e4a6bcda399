/**
 * The coordinator's InputSampler for total-order jobs: read the first records of a
 * bounded number of splits (ranged GETs of the split heads), take their keys, and
 * compute the R−1 split points the map tasks route by (core/total-order.ts).
 *
 * The sample is of INPUT keys (the text before the first tab of an input line), as
 * Hadoop's InputSampler samples the input format's keys: total order therefore assumes
 * a mapper that keeps its input keys (an identity mapper such as `cat`). A mapper that
 * rewrites keys still gets sorted parts, but they may be unevenly sized.
 */
import { UsageError } from '../core/errors.js';
import type { TotalOrderSampling } from '../core/jobconf.js';
import type { InputSplit } from '../core/model.js';
import { readSplitLines } from '../core/splits.js';
import { checkSplitPoints, samplingPlan, splitPoints } from '../core/total-order.js';
import { type Services, forEachLimit } from './context.js';

/** Bytes read from the head of each sampled split (plus the rest of the line it ends in). */
export const SAMPLE_HEAD_BYTES = 1024 * 1024;
/** Most bytes of split points kept on the job record (a DynamoDB item holds 400 KB). */
export const MAX_SPLIT_POINT_BYTES = 128 * 1024;
/** Sampled splits read at once. */
const SAMPLE_CONCURRENCY = 4;

/** The key of an input line as a streaming identity mapper emits it: the text before the first tab. */
export function inputKeyOf(line: string): string {
  const tab = line.indexOf('\t');
  return tab < 0 ? line : line.slice(0, tab);
}

/** Up to `records` keys from the head of one split. */
async function sampleSplit(s: Services, split: InputSplit, records: number): Promise<string[]> {
  // A gzip split is read from its start whatever the range; the loop below stops early.
  const head: InputSplit = split.gzip ? split : { ...split, end: Math.min(split.end, split.start + SAMPLE_HEAD_BYTES) };
  const fetch = async function* (start: number, end: number): AsyncIterable<Buffer> {
    yield* await s.inputs.getRange(split.bucket, split.key, start, end);
  };
  const keys: string[] = [];
  for await (const lines of readSplitLines(head, fetch, { chunkSize: 64 * 1024 })) {
    for (const line of lines) {
      keys.push(inputKeyOf(line));
      if (keys.length >= records) return keys;
    }
  }
  return keys;
}

/**
 * The R−1 (or fewer, see splitPoints) split points of a total-order job over these
 * splits. Throws UsageError when the points would not fit on the job record.
 */
export async function sampleSplitPoints(
  s: Services,
  splits: readonly InputSplit[],
  numPartitions: number,
  sampling: TotalOrderSampling,
): Promise<string[]> {
  const plan = samplingPlan(splits.length, sampling.numSamples, sampling.maxSplitsSampled);
  const samples: string[][] = [];
  await forEachLimit(plan.splitIndexes, SAMPLE_CONCURRENCY, async (i) => {
    samples.push(await sampleSplit(s, splits[i]!, plan.recordsPerSplit));
  });
  const points = splitPoints(samples.flat(), numPartitions);
  checkSplitPoints(points);
  const bytes = points.reduce((n, p) => n + p.length, 0);
  if (bytes > MAX_SPLIT_POINT_BYTES) {
    throw new UsageError(
      `total-order split points for ${numPartitions} reducers take ${bytes} bytes (at most ${MAX_SPLIT_POINT_BYTES}); ` +
        'use fewer reducers or shorter keys',
    );
  }
  return points;
}
