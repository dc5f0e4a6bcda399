/**
 * When to launch a speculative backup attempt of a running task (stragglers). Pure: the
 * checker (services/speculation.ts) builds the snapshots from its active-task listing and
 * the job record, and posts what this returns. The estimate is LATE's (Zaharia et al.,
 * OSDI 2008), as Hadoop's `LegacyTaskRuntimeEstimator` uses it: progress score
 * p = bytes done / bytes total, rate = p / elapsed, time left = (1 − p) / rate. The phase's
 * reference is Hadoop's too: the mean and standard deviation of its committed attempts'
 * durations, from sums the commit keeps on the job record (`CommittedStats`), so the
 * checker never reads the phase's finished tasks. A task is slow when its projected
 * runtime is well above the mean, and the slow task with the longest time left goes first.
 *
 *   phase:  ████ ████ ████ ████ ████ ████ ████ ██·········(straggler, p = 0.2)
 *                                               ↑ no pending task left, a worker idles
 *                                               → post one backup of the straggler
 */
import { UsageError } from './errors.js';
import { COMMITTED_STATS, type JobRecord, type TaskKind } from './model.js';

/** The knobs of the policy (one set per deployment; the per-job switch is separate). */
export interface SpeculationPolicy {
  /** Never back up an attempt that has run less than this (ms). */
  readonly minRunMs: number;
  /** Slow: progress rate below `slowFactor` / the mean committed duration (projected runtime over mean / slowFactor). */
  readonly slowFactor: number;
  /**
   * And projected runtime over mean + `outlierSigma` standard deviations of the committed
   * durations (Hadoop's `mapreduce.job.speculative.slowtaskthreshold`, 1.0): in a phase whose
   * tasks vary widely (skewed reduces), twice the mean is no outlier.
   */
  readonly outlierSigma: number;
  /** Concurrent backups at most this fraction of live workers (at least 1). */
  readonly capFraction: number;
  /** Progress that has not moved for this long (ms) says nothing about the time left (see `estimate`). */
  readonly stalledMs: number;
}

/** Hadoop's `mapreduce.job.speculative.speculative-cap-running-tasks` is 0.1, too. */
export const DEFAULT_SPECULATION: SpeculationPolicy = { minRunMs: 60_000, slowFactor: 0.5, outlierSigma: 1, capFraction: 0.1, stalledMs: 10_000 };

/** A running attempt of the phase, as its last heartbeat reported it. */
export interface RunningTask {
  readonly taskId: string;
  /** Epoch ms of the attempt's claim. */
  readonly startedAt: number;
  /** Map: input bytes read. Reduce: shuffle bytes merged. */
  readonly bytesDone: number;
  /** All the bytes the attempt has to go through (0 when not known yet). */
  readonly bytesTotal: number;
  /** Epoch ms of the last heartbeat that saw `bytesDone` grow (absent: not reported). */
  readonly progressAt?: number;
  /** A backup was already launched for this task (never more than one). */
  readonly hasBackup: boolean;
}

/**
 * Sums over the committed attempts of a phase: the winning commit of each task adds its
 * attempt once, in the commit transaction (aws/task-writes.ts `jobCommitWrite`).
 */
export interface CommittedStats {
  readonly count: number;
  /** Σ duration, claim to commit (ms). */
  readonly sumMs: number;
  /** Σ duration² (ms²), for the standard deviation. */
  readonly sumSqMs: number;
  /** Σ input bytes (map: read; reduce: merged). Recorded; the rule does not read it yet. */
  readonly sumBytes: number;
}

/** No committed attempt yet. */
export const NO_COMMITTED: CommittedStats = { count: 0, sumMs: 0, sumSqMs: 0, sumBytes: 0 };

/** The stats with one more committed attempt (what the commit's `ADD` does to the record). */
export function addCommitted(s: CommittedStats, durationMs: number, bytes: number): CommittedStats {
  return { count: s.count + 1, sumMs: s.sumMs + durationMs, sumSqMs: s.sumSqMs + durationMs * durationMs, sumBytes: s.sumBytes + bytes };
}

/** Mean committed duration (ms); undefined with none. */
export function meanMs(s: CommittedStats): number | undefined {
  return s.count > 0 ? s.sumMs / s.count : undefined;
}

/** Population standard deviation of the committed durations (ms), as Hadoop's DataStatistics; 0 with none. */
export function stdDevMs(s: CommittedStats): number {
  if (s.count === 0) return 0;
  const mean = s.sumMs / s.count;
  // Rounding of the two sums can make the difference slightly negative.
  return Math.sqrt(Math.max(0, s.sumSqMs / s.count - mean * mean));
}

/**
 * The stats of the job's current step and `kind`, from its record. A record without them
 * (no commit yet, or a job in flight when the deploy that added them landed) reads as no
 * committed attempt, so speculation waits for the next commit rather than guess; a record
 * that gained them mid-phase holds the commits since, a smaller sample of the same phase.
 */
export function committedStats(job: JobRecord, kind: TaskKind): CommittedStats {
  const a = COMMITTED_STATS[kind];
  const count = job[a.count] ?? 0;
  if (count <= 0) return NO_COMMITTED;
  return { count, sumMs: job[a.ms] ?? 0, sumSqMs: job[a.msSq] ?? 0, sumBytes: job[a.bytes] ?? 0 };
}

export interface PhaseSnapshot {
  /** Speculation is on for this job and phase (`mapreduce.{map,reduce}.speculative`). */
  readonly enabled: boolean;
  /** Tasks of the phase nobody runs yet. */
  readonly pendingTasks: number;
  readonly running: readonly RunningTask[];
  readonly committed: CommittedStats;
}

export interface FleetSnapshot {
  readonly liveWorkers: number;
  /** Live workers with no running task: the ones a backup would use. */
  readonly idleWorkers: number;
  /** Backups launched and not ended, over all jobs. */
  readonly backupsInFlight: number;
}

/** At most this many backups at once: `capFraction` of the live workers, at least 1. */
export function backupCap(liveWorkers: number, p: SpeculationPolicy = DEFAULT_SPECULATION): number {
  return Math.max(1, Math.floor(liveWorkers * p.capFraction));
}

/** Progress score in [0, 1]. A task with nothing to read is done as soon as it runs. */
export function progressScore(t: Pick<RunningTask, 'bytesDone' | 'bytesTotal'>): number {
  if (t.bytesTotal <= 0) return 0;
  return Math.min(1, Math.max(0, t.bytesDone / t.bytesTotal));
}

/**
 * LATE's estimate: progress rate (score per ms) and time left (ms). Time left is unknown
 * (Infinity) with no progress, at a score of 1 while the attempt still runs, and when the
 * score has not moved for `stalledMs`: the score counts the input handed to the mapper,
 * which runs ahead of the work by what the mapper's stdin buffers hold (a Unix socket on
 * Linux: ~210 KB, most or all of a small split) and misses the work after the input (sort,
 * upload). LATE's (1 − p) / rate assumes the rate holds; for an attempt whose bytes stopped
 * it says "a little left" and only grows with the elapsed time, so the backup came seconds
 * late (p = 0.81: not before 12 s into a phase of 2.9 s attempts), or never (p = 1: 0 ms
 * left). Hadoop 3's `SimpleExponentialTaskRuntimeEstimator` likewise flags an attempt
 * whose progress stagnated (`hasStagnatedProgress`).
 *
 *   claim ── 194 of 239 KB written into stdin (p 0.81) ── mapper sleeps 50 s ─────── commit
 *            LATE at 9 s: 2.1 s left (< a fresh 2.9 s attempt: no backup until 12 s)
 *            here: no byte for `stalledMs` → unknown → slow by its rate, backed up at 9 s
 */
export function estimate(
  t: RunningTask,
  now: number,
  stalledMs = Number.POSITIVE_INFINITY,
): { readonly rate: number; readonly timeLeftMs: number } {
  const elapsed = Math.max(1, now - t.startedAt);
  const p = progressScore(t);
  const rate = p / elapsed;
  // A progress time before the claim is the previous attempt's (the claim keeps the field).
  const stalled = t.progressAt !== undefined && now - Math.max(t.progressAt, t.startedAt) >= stalledMs;
  return { rate, timeLeftMs: rate > 0 && p < 1 && !stalled ? (1 - p) / rate : Number.POSITIVE_INFINITY };
}

/**
 * The projected runtime (ms) above which a running attempt is slow: `mean / slowFactor`
 * (the rate rule: score rate below `slowFactor` × 1/mean), and at least Hadoop's outlier
 * bound `mean + outlierSigma × σ`. Undefined with no committed attempt.
 */
export function slowRuntimeMs(s: CommittedStats, p: SpeculationPolicy = DEFAULT_SPECULATION): number | undefined {
  const mean = meanMs(s);
  if (mean === undefined) return undefined;
  return Math.max(mean / p.slowFactor, mean + p.outlierSigma * stdDevMs(s));
}

/**
 * The task ids to back up now, best first (possibly none). Rules, all of which must hold:
 * the phase is on and has no pending task; at least one of its attempts committed (as
 * Hadoop, which does not speculate before one task completed: there is no reference
 * before); a worker is idle; fewer backups in flight than the cap; the task has no backup
 * yet and has run at least `minRunMs`; its projected runtime (1 / score rate; score rates
 * are used as bytes per ms are comparable only relative to their own total) is over
 * `slowRuntimeMs`; and a fresh attempt, taking the mean committed duration (Hadoop's
 * estimate of a new attempt), would finish before the estimate for the running one
 * (unknown, so beaten, once its bytes stalled for `stalledMs`: `estimate`).
 *
 * The mean, not the median the rule used when the checker listed every finished task:
 * the commit can keep sums, not an order statistic. A few fast outliers (empty splits)
 * pull the mean down, which only makes backups come earlier for the slow tail, and the
 * σ bound keeps a widely varying phase from backing up its ordinary long tasks.
 */
export function chooseBackups(
  phase: PhaseSnapshot,
  fleet: FleetSnapshot,
  now: number,
  p: SpeculationPolicy = DEFAULT_SPECULATION,
): string[] {
  const freshAttemptMs = meanMs(phase.committed);
  const slowMs = slowRuntimeMs(phase.committed, p);
  if (!phase.enabled || phase.pendingTasks > 0 || phase.running.length === 0) return [];
  if (freshAttemptMs === undefined || slowMs === undefined) return [];
  const room = Math.min(backupCap(fleet.liveWorkers, p) - fleet.backupsInFlight, fleet.idleWorkers);
  if (room <= 0) return [];
  return phase.running
    .map((t) => ({ t, ...estimate(t, now, p.stalledMs) }))
    .filter((e) => !e.t.hasBackup && now - e.t.startedAt >= p.minRunMs)
    // Projected runtime 1/rate over slowMs (a rate of 0, no progress, is slow).
    .filter((e) => e.rate * slowMs < 1)
    .filter((e) => e.timeLeftMs > freshAttemptMs)
    .sort((a, b) => b.timeLeftMs - a.timeLeftMs)
    .slice(0, room)
    .map((e) => e.t.taskId);
}

/** The per-job switch as the manifest holds it: one flag for both phases, or one per phase. */
export type SpeculativeSetting = boolean | { readonly map?: boolean; readonly reduce?: boolean };

/**
 * Whether a job's phase may get backups: on unless the job switched it off, as Hadoop's
 * `mapreduce.map.speculative` / `mapreduce.reduce.speculative` (both true by default).
 */
export function speculationEnabled(setting: SpeculativeSetting | undefined, kind: 'map' | 'reduce'): boolean {
  if (setting === undefined) return true;
  if (typeof setting === 'boolean') return setting;
  return setting[kind] ?? true;
}

/** Hadoop's per-job switches, and their Hadoop 1 names. */
export const SPECULATIVE_KEYS = {
  map: ['mapreduce.map.speculative', 'mapred.map.tasks.speculative.execution'],
  reduce: ['mapreduce.reduce.speculative', 'mapred.reduce.tasks.speculative.execution'],
} as const;

/**
 * The switch as a job configuration (`-D key=value`) gives it; undefined when it names
 * neither key. A value other than true/false is an error naming the key.
 */
export function speculativeFromJobConf(conf: Readonly<Record<string, string>>): SpeculativeSetting | undefined {
  const read = (kind: 'map' | 'reduce'): boolean | undefined => {
    const key = SPECULATIVE_KEYS[kind].find((k) => conf[k] !== undefined);
    if (key === undefined) return undefined;
    const v = conf[key]!.trim().toLowerCase();
    if (v !== 'true' && v !== 'false') throw new UsageError(`${key} must be true or false, got ${JSON.stringify(conf[key])}`);
    return v === 'true';
  };
  const map = read('map');
  const reduce = read('reduce');
  if (map === undefined && reduce === undefined) return undefined;
  return { ...(map !== undefined ? { map } : {}), ...(reduce !== undefined ? { reduce } : {}) };
}

/**
 * The job's switch for one phase: a `-D mapreduce.{map,reduce}.speculative` key in the
 * job configuration wins over the manifest's `speculative` field (as every jobconf key
 * wins over its manifest field), and both default to on.
 */
export function jobSpeculates(
  m: { readonly speculative?: SpeculativeSetting; readonly jobconf?: Readonly<Record<string, string>> } | undefined,
  kind: 'map' | 'reduce',
): boolean {
  const fromConf = m?.jobconf ? speculativeFromJobConf(m.jobconf) : undefined;
  const fromConfKind = typeof fromConf === 'object' ? fromConf[kind] : undefined;
  return fromConfKind ?? speculationEnabled(m?.speculative, kind);
}
