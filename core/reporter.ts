/**
 * The Hadoop Streaming stderr protocol (`reporter:counter:` / `reporter:status:`)
 * and the framework's own counter names.
 */

/** Counter group of the framework's counters. */
export const FRAMEWORK = 'mapreduce';

/** Framework counter names (in group FRAMEWORK). */
export const Counters = {
  MAP_INPUT_RECORDS: 'MAP_INPUT_RECORDS',
  MAP_INPUT_BYTES: 'MAP_INPUT_BYTES',
  MAP_OUTPUT_RECORDS: 'MAP_OUTPUT_RECORDS',
  MAP_OUTPUT_BYTES: 'MAP_OUTPUT_BYTES',
  COMBINE_INPUT_RECORDS: 'COMBINE_INPUT_RECORDS',
  COMBINE_OUTPUT_RECORDS: 'COMBINE_OUTPUT_RECORDS',
  REDUCE_INPUT_GROUPS: 'REDUCE_INPUT_GROUPS',
  REDUCE_INPUT_RECORDS: 'REDUCE_INPUT_RECORDS',
  REDUCE_OUTPUT_RECORDS: 'REDUCE_OUTPUT_RECORDS',
  OUTPUT_BYTES: 'OUTPUT_BYTES',
  SPILLED_RECORDS: 'SPILLED_RECORDS',
  /** Reduce merge: merges written to local disk before the final merge (core/merge-passes.ts). */
  REDUCE_INTERMEDIATE_MERGES: 'REDUCE_INTERMEDIATE_MERGES',
  /** Reduce merge: intermediate merges kept in memory (all inputs in memory; core/merge-passes.ts). */
  REDUCE_MEMORY_MERGES: 'REDUCE_MEMORY_MERGES',
  /** Reduce merge: most files read at once by one reducer (summed over reducers, like every counter). */
  REDUCE_MERGE_MAX_OPEN_FILES: 'REDUCE_MERGE_MAX_OPEN_FILES',
  /** Shuffle: slice downloads that were retried. */
  REDUCE_FETCH_RETRIES: 'REDUCE_FETCH_RETRIES',
  FAILED_ATTEMPTS: 'FAILED_ATTEMPTS',
  RETRIED_ATTEMPTS: 'RETRIED_ATTEMPTS',
  /** Speculative backup attempts started, and those that committed first. */
  SPECULATIVE_ATTEMPTS: 'SPECULATIVE_ATTEMPTS',
  SPECULATIVE_WINS: 'SPECULATIVE_WINS',
} as const;

export type CounterName = (typeof Counters)[keyof typeof Counters];

/** A parsed reporter line. */
export type ReporterMessage =
  | { kind: 'counter'; group: string; name: string; amount: number }
  | { kind: 'status'; message: string };

const COUNTER_PREFIX = 'reporter:counter:';
const STATUS_PREFIX = 'reporter:status:';

/**
 * Parse one stderr line of a streaming executable. Returns undefined for ordinary
 * stderr output and for malformed counter lines (Hadoop ignores those too).
 * `reporter:counter:<group>,<counter>,<amount>` needs exactly three comma-separated
 * fields, non-empty names and an integer amount (negative allowed, like Hadoop's
 * incrCounter). A trailing '\r' is ignored.
 */
export function parseReporterLine(line: string): ReporterMessage | undefined {
  const text = line.endsWith('\r') ? line.slice(0, -1) : line;
  if (text.startsWith(COUNTER_PREFIX)) {
    const fields = text.slice(COUNTER_PREFIX.length).split(',');
    if (fields.length !== 3) return undefined;
    const [group, name, amountText] = fields as [string, string, string];
    const amountTrimmed = amountText.trim();
    if (group === '' || name === '' || !/^[+-]?\d+$/.test(amountTrimmed)) return undefined;
    const amount = Number(amountTrimmed);
    if (!Number.isSafeInteger(amount)) return undefined;
    return { kind: 'counter', group, name, amount };
  }
  if (text.startsWith(STATUS_PREFIX)) return { kind: 'status', message: text.slice(STATUS_PREFIX.length) };
  return undefined;
}

/** The flat key of a counter in a counters record: `group.name`. */
export function counterKey(group: string, name: string): string {
  return `${group}.${name}`;
}

/** The flat key of a framework counter, e.g. `mapreduce.MAP_INPUT_RECORDS`. */
export function frameworkCounter(name: CounterName): string {
  return counterKey(FRAMEWORK, name);
}

/** Sum of two counter records, as a NEW object (neither input is modified). */
export function addCounters(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const sum: Record<string, number> = { ...a };
  for (const [k, v] of Object.entries(b)) sum[k] = (sum[k] ?? 0) + v;
  return sum;
}

/** Add `amount` to counter `key` of `target`, in place. */
export function incrementCounter(target: Record<string, number>, key: string, amount = 1): void {
  target[key] = (target[key] ?? 0) + amount;
}

/** `a` less `b`, as a NEW object, without the counters that come out 0 (a step's share of cumulative totals). */
export function subtractCounters(
  a: Readonly<Record<string, number>>,
  b: Readonly<Record<string, number>>,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(a)) {
    const d = v - (b[k] ?? 0);
    if (d !== 0) out[k] = d;
  }
  return out;
}
