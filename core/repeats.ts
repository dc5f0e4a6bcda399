/**
 * The one policy for counting repeated records instead of holding every copy.
 *
 * Two places count repeats: the map-side sort buffer (`core/sort-buffer.ts`: identical
 * lines are held once with a tally, sorted once, written n times) and the map-side
 * aggregator of module combiners (`worker/repeat-aggregator.ts`: n identical records
 * are combined into one before the sort). Counting costs one hash lookup per record and
 * pays only when records repeat: a word count over a small vocabulary, a log
 * aggregation's `status=500\t1`. It must not cost the shapes where they rarely repeat
 * (a sort, a join, a word count over a large vocabulary), so both places follow this
 * rule:
 *
 * - count the first REPEAT_PROBE_RECORDS records of a window (a buffer's fill since it
 *   was last emptied) before judging;
 * - from then on, keep counting only while every distinct record came at least
 *   MIN_REPEATS times on average (`distinct * MIN_REPEATS <= seen`);
 * - once the rule fails, stop counting for the rest of the attempt: map output has
 *   the same shape from start to end far more often than not, and re-probing would
 *   cost the rarely-repeating shapes a probe per window.
 *
 * The constants were chosen with scripts/micro/repeat-policy.ts (CPU of the map-side
 * sort per shape, counting on and off): a small vocabulary gains 4-6x, a Zipf
 * vocabulary of 50k-1M words about breaks even in CPU and spills far less, and
 * rarely-repeating shapes pay only the probe.
 */

/** Records counted in a window before the policy judges whether they repeat. */
export const REPEAT_PROBE_RECORDS = 16384;

/** Counting pays while each distinct record came at least this many times on average. */
export const MIN_REPEATS = 4;

/**
 * True while counting is worth it: fewer than REPEAT_PROBE_RECORDS records seen in the
 * window (too early to judge), or each distinct one came MIN_REPEATS times on average.
 * At the end of a window (`windowEnded`: the buffer filled up and is handed on) the
 * records seen are judged however few they were: a buffer that fills before the probe
 * is over is itself the sign of records that rarely repeat.
 */
export function repeatsPayOff(seen: number, distinct: number, windowEnded = false): boolean {
  return (!windowEnded && seen < REPEAT_PROBE_RECORDS) || distinct * MIN_REPEATS <= seen;
}
