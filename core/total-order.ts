/**
 * Total-order partitioning, as Hadoop's InputSampler and TotalOrderPartitioner do it:
 * sample keys from a bounded number of splits, sort them, take R−1 split points at
 * evenly spaced ranks, and route each key by binary search over the points, so that
 * every key of part r sorts before every key of part r+1 and `cat part-*` is sorted.
 *
 * Keys are latin1 strings (one char per byte), compared in byte order (`LC_ALL=C`).
 * A key equal to a split point goes to the partition above it (Hadoop's
 * `binarySearch` rule), so all records of one key land in one partition: a key never
 * straddles two reducers. A hot key (say 30 % of the records) therefore makes its
 * partition big, but the job still finishes; equal samples never yield equal split
 * points (the rank moves past duplicates), so no partition is empty because of them.
 */

/** Byte-order comparison of latin1 keys. */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Hadoop's default sampler is `-splitRandom 0.1 10000 10`: 10,000 samples from at most 10 splits. */
export const DEFAULT_NUM_SAMPLES = 10_000;
export const DEFAULT_MAX_SPLITS_SAMPLED = 10;

export interface SamplingPlan {
  /** Indexes of the splits to read, spread evenly over the input. */
  readonly splitIndexes: number[];
  /** Records to read from the start of each sampled split. */
  readonly recordsPerSplit: number;
}

/**
 * Which splits to sample and how many records of each, like Hadoop's SplitSampler
 * (the first numSamples / splitsToSample records of each sampled split). Unlike
 * SplitSampler, which reads the first splits, the sampled splits are spread over the
 * whole input (as TeraSort does), so input sorted by key is not sampled from one end.
 */
export function samplingPlan(
  numSplits: number,
  numSamples = DEFAULT_NUM_SAMPLES,
  maxSplitsSampled = DEFAULT_MAX_SPLITS_SAMPLED,
): SamplingPlan {
  if (!Number.isInteger(numSplits) || numSplits < 0) throw new RangeError(`numSplits must be ≥ 0, got ${numSplits}`);
  if (numSamples < 1 || maxSplitsSampled < 1) throw new RangeError('numSamples and maxSplitsSampled must be ≥ 1');
  const n = Math.min(numSplits, maxSplitsSampled);
  const splitIndexes = Array.from({ length: n }, (_, i) => Math.floor((i * numSplits) / n));
  return { splitIndexes, recordsPerSplit: n === 0 ? 0 : Math.max(1, Math.floor(numSamples / n)) };
}

/**
 * R−1 split points from sampled keys: sort, then take the key at rank round(step × i)
 * (step = samples / R), moving past samples equal to the previous point, as Hadoop's
 * `InputSampler.writePartitionFile` does. Fewer points come out when the samples have
 * too few distinct keys; the partitions above the last point then stay empty.
 */
export function splitPoints(samples: readonly string[], numPartitions: number): string[] {
  if (!Number.isInteger(numPartitions) || numPartitions < 1) {
    throw new RangeError(`numPartitions must be ≥ 1, got ${numPartitions}`);
  }
  const sorted = [...samples].sort(compareKeys);
  const points: string[] = [];
  if (sorted.length === 0) return points;
  const step = sorted.length / numPartitions;
  let last = -1;
  for (let i = 1; i < numPartitions; i++) {
    // Hadoop only moves past duplicates when rounding lands at or before the previous rank; a
    // run of one hot key wider than a step would then repeat a point, so skip the whole run.
    let k = Math.max(Math.round(step * i), last + 1);
    const prev = points[points.length - 1];
    while (k < sorted.length && prev !== undefined && sorted[k] === prev) k++;
    if (k >= sorted.length) break;
    points.push(sorted[k]!);
    last = k;
  }
  return points;
}

/** Throws unless the points are strictly increasing (Hadoop refuses unordered split points too). */
export function checkSplitPoints(points: readonly string[]): void {
  for (let i = 1; i < points.length; i++) {
    if (compareKeys(points[i - 1]!, points[i]!) >= 0) {
      throw new RangeError(`Split points are out of order or repeated at ${i}: "${points[i - 1]}" then "${points[i]}"`);
    }
  }
}

/**
 * The partition of a key: the number of split points ≤ key (binary search), so keys
 * below the first point go to 0 and a key equal to a point goes to the partition above it.
 */
export function totalOrderPartition(key: string, points: readonly string[]): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareKeys(points[mid]!, key) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
