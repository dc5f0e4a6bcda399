/**
 * When to launch a speculative backup attempt of a running task (stragglers). Pure: the
 * checker (services/speculation.ts) builds the snapshots from the table and posts what
 * this returns. The estimate is LATE's (Zaharia et al., OSDI 2008), as Hadoop's
 * `LegacyTaskRuntimeEstimator` uses it: progress score p = bytes done / bytes total,
 * rate = p / elapsed, time left = (1 − p) / rate; a task is slow when its rate is well
 * below the phase median, and the slow task with the longest time left goes first.
 *
 *   phase:  ████ ████ ████ ████ ████ ████ ████ ██·········(straggler, p = 0.2)
 *                                               ↑ no pending task left, a worker idles
 *                                               → post one backup of the straggler
 */
import { UsageError } from './errors.js';

/** The knobs of the policy (one set per deployment; the per-job switch is separate). */
export interface SpeculationPolicy {
  /** Never back up an attempt that has run less than this (ms). */
  readonly minRunMs: number;
  /** Slow: progress rate below `slowFactor` × the phase median rate. */
  readonly slowFactor: number;
  /** Concurrent backups at most this fraction of live workers (at least 1). */
  readonly capFraction: number;
  /** Progress that has not moved for this long (ms) says nothing about the time left (see `estimate`). */
  readonly stalledMs: number;
}

/** Hadoop's `mapreduce.job.speculative.speculative-cap-running-tasks` is 0.1, too. */
export const DEFAULT_SPECULATION: SpeculationPolicy = { minRunMs: 60_000, slowFactor: 0.5, capFraction: 0.1, stalledMs: 10_000 };

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

/** A committed attempt of the phase: how long its bytes took. */
export interface FinishedTask {
  readonly durationMs: number;
  readonly bytes: number;
}

export interface PhaseSnapshot {
  /** Speculation is on for this job and phase (`mapreduce.{map,reduce}.speculative`). */
  readonly enabled: boolean;
  /** Tasks of the phase nobody runs yet. */
  readonly pendingTasks: number;
  readonly running: readonly RunningTask[];
  readonly finished: readonly FinishedTask[];
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

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * The task ids to back up now, best first (possibly none). Rules, all of which must hold:
 * the phase is on and has no pending task; a worker is idle; fewer backups in flight than
 * the cap; the task has no backup yet and has run at least `minRunMs`; its rate is below
 * `slowFactor` × the median rate of the phase (running and committed attempts, as rates
 * in bytes per ms are comparable only relative to their own total, the score rate is used
 * for running ones and 1/duration for committed ones); and a fresh attempt, taking the
 * median committed duration, would finish before the estimate for the running one (unknown,
 * so beaten, once its bytes stalled for `stalledMs`: `estimate`).
 */
export function chooseBackups(
  phase: PhaseSnapshot,
  fleet: FleetSnapshot,
  now: number,
  p: SpeculationPolicy = DEFAULT_SPECULATION,
): string[] {
  if (!phase.enabled || phase.pendingTasks > 0 || phase.running.length === 0) return [];
  const room = Math.min(backupCap(fleet.liveWorkers, p) - fleet.backupsInFlight, fleet.idleWorkers);
  if (room <= 0) return [];
  const estimates = phase.running.map((t) => ({ t, ...estimate(t, now, p.stalledMs) }));
  const rates = [
    ...estimates.map((e) => e.rate),
    ...phase.finished.map((f) => 1 / Math.max(1, f.durationMs)),
  ];
  const medianRate = median(rates) ?? 0;
  const freshAttemptMs = median(phase.finished.map((f) => f.durationMs));
  return estimates
    .filter((e) => !e.t.hasBackup && now - e.t.startedAt >= p.minRunMs)
    .filter((e) => e.rate < p.slowFactor * medianRate)
    .filter((e) => freshAttemptMs === undefined || e.timeLeftMs > freshAttemptMs)
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
