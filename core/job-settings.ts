/**
 * How a manifest's `jobconf` shapes the job: validation of the Hadoop keys against
 * the rest of the manifest, and the manifest fields the keys set (reducers, attempts,
 * timeout, map count hint, merge fan-in). One home for "which wins": a jobconf key overrides the
 * matching manifest field (the CLI's own flags are written into the jobconf, so
 * `-R` still wins over `-D mapreduce.job.reduces` as in Hadoop).
 */
import { UsageError } from './errors.js';
import { interpretJobConf, usesKeyFields, type StreamingSettings } from './jobconf.js';
import { JobConfKeys, type JobConf } from './jobconf-keys.js';
import { shuffleCodecFor, type ShuffleCodec } from './shuffle-key.js';

/** The manifest fields read or written here (a structural subset of Manifest). */
interface JobConfFields {
  readonly jobconf: JobConf;
  readonly mapper?: unknown;
  readonly reducer?: unknown;
  readonly combiner?: unknown;
  readonly numReducers: number;
  readonly splitSize?: number;
  readonly numMappers?: number;
  readonly maxAttempts?: number;
  readonly taskTimeoutSeconds?: number;
  readonly sortFactor?: number;
}

/** "Never" for `mapreduce.task.timeout=0`: a year, in seconds. */
const NEVER_SECONDS = 365 * 24 * 3600;

/** Problems with the manifest's jobconf, one message each ([] when fine). */
export function jobConfIssues(m: JobConfFields): string[] {
  let s: StreamingSettings;
  try {
    s = interpretJobConf(m.jobconf);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return err.message
      .split('\n')
      .slice(1)
      .map((line) => line.replace(/^\s*-\s*/, ''));
  }
  const issues: string[] = [];
  if (s.totalOrder && usesKeyFields(s)) {
    // The split points are sampled input keys (the text before the first tab), so both sides must key alike.
    issues.push(
      'the total-order partitioner routes on the whole key (the text before the first tab); it cannot be combined with key-field options (separators, key fields, KeyFieldBasedComparator)',
    );
  }
  if (usesKeyFields(s)) {
    for (const [role, step] of [
      ['mapper', m.mapper],
      ['reducer', m.reducer],
      ['combiner', m.combiner],
    ] as const) {
      if (step !== undefined && typeof step !== 'string') {
        issues.push(
          `key-field options (separators, key fields, KeyFieldBased partitioner/comparator) apply to executable steps; the ${role} is a module`,
        );
      }
    }
  }
  return issues;
}

/**
 * The manifest with its jobconf applied to the fields it controls. Idempotent, so a
 * manifest validated twice is unchanged. A bad jobconf is left to jobConfIssues.
 */
export function applyJobConf<M extends JobConfFields>(m: M): M {
  if (Object.keys(m.jobconf).length === 0) return m;
  let s: StreamingSettings;
  try {
    s = interpretJobConf(m.jobconf);
  } catch {
    return m; // reported by jobConfIssues
  }
  const out: Record<string, unknown> = { ...(m as object) };
  if (s.reduces !== undefined) out.numReducers = s.reduces;
  const attempts = Math.max(s.mapMaxAttempts ?? 0, s.reduceMaxAttempts ?? 0);
  if (attempts > 0) out.maxAttempts = Math.min(attempts, 20);
  if (s.taskTimeoutMs !== undefined) {
    out.taskTimeoutSeconds = s.taskTimeoutMs === 0 ? NEVER_SECONDS : Math.max(1, Math.ceil(s.taskTimeoutMs / 1000));
  }
  if (s.sortFactor !== undefined) out.sortFactor = Math.min(s.sortFactor, 10_000);
  if (s.mapsHint !== undefined && m.splitSize === undefined && m.numMappers === undefined) {
    out.numMappers = Math.min(s.mapsHint, 100_000);
  }
  return out as M;
}

/** The settings of a (validated) manifest's jobconf. */
export function settingsOf(m: { readonly jobconf?: JobConf }): StreamingSettings {
  return interpretJobConf(m.jobconf ?? {});
}

/** The shuffle codec of a manifest's job, or undefined when lines travel unchanged. */
export function shuffleCodecOf(m: { readonly jobconf?: JobConf }): ShuffleCodec | undefined {
  return shuffleCodecFor(settingsOf(m));
}

/** The jobconf key `-R` writes, so that the flag wins over `-D mapreduce.job.reduces`. */
export const REDUCES_KEY = JobConfKeys.REDUCES;

/**
 * A step's own jobconf: values that override the job-wide jobconf for the step, and
 * null for a job-wide key the step removes (mrjob's step jobconf `None`, which its
 * runner's combine_jobconfs drops from the step's configuration).
 */
export type StepJobConf = Readonly<Record<string, string | null>>;

/** The jobconf a step runs with: the job-wide one, overridden and pruned by the step's own. */
export function overlayJobConf(jobWide: JobConf, step: StepJobConf): Record<string, string> {
  const merged: Record<string, string | null> = { ...jobWide, ...step };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== null));
}

/** A step's own keys without its removals (what it sets itself, e.g. its map-count hint). */
export function ownJobConf(step: StepJobConf): Record<string, string> {
  return overlayJobConf({}, step);
}

/**
 * What a step's own jobconf must say so that it runs with `wanted` under `jobWide`: the
 * wanted keys, and null for each job-wide key it does not want. Inverse of overlayJobConf.
 */
export function stepOverlay(jobWide: JobConf, wanted: JobConf): Record<string, string | null> {
  const removed = Object.keys(jobWide).filter((k) => !Object.hasOwn(wanted, k));
  return { ...wanted, ...Object.fromEntries(removed.map((k) => [k, null])) };
}
