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
 * The constants: a 16384-record probe asking for 4 copies (2026-11-26 14:11) turned
 * counting off on the benchmark's own corpus (20k-word Zipf vocabulary: 4,734
 * distinct words in the first 16384 records, under 4 copies each), and the map
 * attempts then sorted every `word\t1` record: 3.4x the worker CPU of the whole word
 * count. Distinct records of a heavy-tailed vocabulary grow much slower than records,
 * so a short probe underrates how much they repeat (that corpus: 10,842 distinct in
 * 65536, 17,855 in 262144). 65536 records and 2 copies (the thresholds both places used
 * before they shared this policy) keep counting on Zipf vocabularies of 20k-1M words
 * and still stop after one probe where records do not repeat. Measured on real map
 * attempts run in-process (docs/performance.md, "Where the time goes").
 */

/** Records counted in a window before the policy judges whether they repeat. */
export const REPEAT_PROBE_RECORDS = 65536;

/** Counting pays while each distinct record came at least this many times on average. */
export const MIN_REPEATS = 2;

/**
 * True while counting is worth it: fewer than REPEAT_PROBE_RECORDS records seen in the
 * window (too early to judge) unless the probe's outcome is already certain, or each
 * distinct one came MIN_REPEATS times on average. Certain: more than
 * REPEAT_PROBE_RECORDS / MIN_REPEATS distinct records fail the rule at the probe's end
 * whatever comes next (distinct records never go down), so a window of records that do not
 * repeat (a sort's: the probe of a TeraSort map, counter and hand-over, 241 -> 103 CPU ms standalone) stops at
 * half the probe. Counting shapes are not affected: the synthetic corpus's 1M-word
 * vocabulary has 50 % distinct records at 16,384 and 40 % at 65,536.
 * At the end of a window (`windowEnded`: the buffer filled up and is handed on) the
 * records seen are judged however few they were: a buffer that fills before the probe
 * is over is itself the sign of records that rarely repeat.
 */
export function repeatsPayOff(seen: number, distinct: number, windowEnded = false): boolean {
  return (!windowEnded && seen < REPEAT_PROBE_RECORDS && distinct * MIN_REPEATS <= REPEAT_PROBE_RECORDS) || distinct * MIN_REPEATS <= seen;
}
