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
 *   was last emptied) before judging, unless their outcome is settled sooner (records that
 *   cannot pay off: `repeatsPayOff`);
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
 * The fewest records a window's probe is judged on before its end (`repeatsPayOff`): below
 * this a handful of repeats is not evidence either way.
 */
export const EARLY_JUDGE_RECORDS = 2048;

/**
 * How far the repeats seen so far may fall short of the probe's need and counting still goes
 * on (see `repeatsPayOff`): a margin for sampling noise. With 4, a window whose records would
 * just pay off at the probe's end (32 repeats expected in its first 2,048 records) is stopped
 * at 2,048 only if it showed fewer than 8 (Poisson: ~1e-7).
 */
export const EARLY_JUDGE_MARGIN = 4;

/**
 * True while counting is worth it: fewer than REPEAT_PROBE_RECORDS records seen in the
 * window (too early to judge) unless the probe's outcome is already settled, or each
 * distinct one came MIN_REPEATS times on average. Settled, during the probe:
 *
 * - certain: more than REPEAT_PROBE_RECORDS / MIN_REPEATS distinct records fail the rule at
 *   the probe's end whatever comes next (distinct records never go down);
 * - hopeless: from EARLY_JUDGE_RECORDS records on, the repeats so far (seen - distinct)
 *   scaled to the probe's end cannot reach the repeats the rule needs there
 *   (REPEAT_PROBE_RECORDS * (1 - 1 / MIN_REPEATS)), even EARLY_JUDGE_MARGIN times over.
 *   Repeats grow at most with the square of the records seen: among N records drawn from
 *   any fixed distribution of keys, the expected number of equal pairs is N(N-1)/2 times
 *   the chance that two draws are equal, and each repeat needs a pair. So records that
 *   never repeat (a sort's: TeraSort's 100-byte records) are judged at 2,048 records
 *   instead of 32,768 (the probe was ~12 CPU-ms of a 16 MiB TeraSort map attempt's ~105 in a
 *   profile), while a vocabulary that would pay off shows its repeats long before: the synthetic
 *   corpus's 1M words have ~50 % repeats at 16,384 records, English and a 20k-word
 *   uniform vocabulary (~400 repeats in 4,096 records, ~70 % at the probe's end) more.
 *
 * At the end of a window (`windowEnded`: the buffer filled up and is handed on) the
 * records seen are judged however few they were: a buffer that fills before the probe
 * is over is itself the sign of records that rarely repeat.
 */
export function repeatsPayOff(seen: number, distinct: number, windowEnded = false): boolean {
  if (windowEnded || seen >= REPEAT_PROBE_RECORDS) return distinct * MIN_REPEATS <= seen;
  if (distinct * MIN_REPEATS > REPEAT_PROBE_RECORDS) return false;
  return seen < EARLY_JUDGE_RECORDS || !hopeless(seen, seen - distinct);
}

/**
 * Whether `repeats` among the first `seen` records of a probe, scaled by (probe / seen)^2 and
 * EARLY_JUDGE_MARGIN, stay below the repeats MIN_REPEATS needs at the probe's end.
 */
function hopeless(seen: number, repeats: number): boolean {
  const P = REPEAT_PROBE_RECORDS;
  // repeats * (P / seen)^2 * margin < P * (1 - 1 / MIN_REPEATS), multiplied out (exact in doubles).
  return repeats * EARLY_JUDGE_MARGIN * P * MIN_REPEATS < seen * seen * (MIN_REPEATS - 1);
}
