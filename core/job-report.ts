/**
 * What `mapreduce report` shows, computed from the job record, its task records and
 * the stderr tails of failed attempts: attempts on a timeline, phase boundaries,
 * durations with stragglers, throughput over time, counters grouped as Hadoop groups
 * them, failures, and the modeled cost. Pure; the HTML is drawn by cli/report-html.ts.
 */
import { type AttemptState, type AttemptView, attemptSeconds, jobAttempts, type TaskRecordItem } from './attempts.js';
import { DEFAULT_PLACEMENT, itemSizes, type JobCost, jobCost, type Placement } from './job-cost.js';
import type { JobRecord, TaskKind } from './model.js';
import { FRAMEWORK } from './reporter.js';
import { type StepReport, stepReports } from './step-report.js';
import { stepOfTaskId } from './steps.js';

/**
 * An attempt is a straggler when it ran more than this many times the median of its
 * phase (Spark's `spark.speculation.multiplier`, 1.5, is the same rule).
 */
export const STRAGGLER_FACTOR = 1.5;
/** Throughput is shown in this many time buckets at most. */
const THROUGHPUT_BUCKETS = 40;
/** Stderr lines kept per failed attempt. */
const STDERR_TAIL_LINES = 20;

export interface ReportAttempt {
  readonly taskId: string;
  /** The job step (1-based) the task belongs to. */
  readonly step: number;
  readonly phase: TaskKind;
  readonly attempt: number;
  readonly worker: string;
  readonly outcome: AttemptState;
  readonly backup: boolean;
  /** Seconds since the job was created. */
  readonly start: number;
  readonly end: number;
  readonly seconds: number;
  readonly straggler: boolean;
  readonly estimated: boolean;
  readonly inputBytes?: number;
  readonly outputBytes?: number;
  readonly reason?: string;
}

export interface PhaseBoundary {
  readonly label: string;
  /** Seconds since the job was created. */
  readonly at: number;
}

export interface ThroughputPoint {
  readonly phase: TaskKind;
  /** Bucket start, seconds since the job was created. */
  readonly t: number;
  readonly mbPerSecond: number;
}

export interface CounterGroup {
  readonly group: string;
  readonly counters: readonly { readonly name: string; readonly value: number }[];
}

export interface FailedAttempt {
  readonly taskId: string;
  readonly attempt: number;
  readonly worker: string;
  readonly outcome: AttemptState;
  readonly reason: string;
  readonly stderrTail?: string;
}

export interface JobReport {
  readonly job: JobRecord;
  readonly generatedAt: string;
  readonly attempts: readonly ReportAttempt[];
  readonly workers: readonly string[];
  readonly boundaries: readonly PhaseBoundary[];
  /** Median attempt seconds per phase (committed attempts). */
  readonly medianSeconds: Readonly<Partial<Record<TaskKind, number>>>;
  readonly throughput: readonly ThroughputPoint[];
  readonly counterGroups: readonly CounterGroup[];
  readonly failures: readonly FailedAttempt[];
  readonly cost: JobCost;
  /** Per step of a multi-step job (one entry for a single-step job): progress, time, counters. */
  readonly steps: readonly ReportStep[];
}

/** A step's report with its counters grouped as the job's are. */
export interface ReportStep extends StepReport {
  readonly counterGroups?: readonly CounterGroup[];
}

export interface ReportInput {
  readonly job: JobRecord;
  readonly tasks: readonly TaskRecordItem[];
  /** Stderr of attempts by `taskId/attempt` (only failed ones are shown). */
  readonly stderr?: Readonly<Record<string, string>>;
  readonly now: number;
  readonly placement?: Placement;
}

export function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

export function tail(text: string, lines: number): string {
  const all = text.replace(/\n$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

/**
 * Phase boundaries: the job's start, the map phase's last commit, the first reduce claim,
 * the end. A multi-step job's are the start of each step instead of its map and reduce phases.
 */
function boundaries(job: JobRecord, attempts: readonly ReportAttempt[], end: number, steps: readonly StepReport[]): PhaseBoundary[] {
  const out: PhaseBoundary[] = [{ label: 'job start', at: 0 }];
  if (steps.length > 1) {
    for (const s of steps.slice(1)) if (s.start !== undefined) out.push({ label: `step ${s.step} start`, at: s.start });
    if (job.finishedAt) out.push({ label: `job ${job.status.toLowerCase()}`, at: end });
    return out;
  }
  const maps = attempts.filter((a) => a.phase === 'map' && a.outcome === 'committed');
  const reduces = attempts.filter((a) => a.phase === 'reduce');
  if (maps.length > 0 && job.numReduces > 0) out.push({ label: 'maps done', at: Math.max(...maps.map((a) => a.end)) });
  if (reduces.length > 0) out.push({ label: 'reduce start', at: Math.min(...reduces.map((a) => a.start)) });
  if (job.finishedAt) out.push({ label: `job ${job.status.toLowerCase()}`, at: end });
  return out;
}

/** MB/s of input processed per phase over time, each attempt's bytes spread evenly over its run. */
export function throughput(attempts: readonly ReportAttempt[], end: number): ThroughputPoint[] {
  const width = Math.max(1, Math.ceil(end / THROUGHPUT_BUCKETS));
  const buckets = Math.max(1, Math.ceil(end / width));
  const out: ThroughputPoint[] = [];
  for (const phase of ['map', 'reduce'] as const) {
    const done = attempts.filter((a) => a.phase === phase && a.outcome === 'committed' && (a.inputBytes ?? 0) > 0);
    if (done.length === 0) continue;
    const bytes = new Array<number>(buckets).fill(0);
    for (const a of done) {
      const rate = (a.inputBytes ?? 0) / Math.max(1e-3, a.end - a.start);
      for (let b = Math.floor(a.start / width); b < buckets && b * width < a.end; b++) {
        const overlap = Math.min(a.end, (b + 1) * width) - Math.max(a.start, b * width);
        if (overlap > 0) bytes[b] = (bytes[b] ?? 0) + rate * overlap;
      }
    }
    bytes.forEach((n, b) => out.push({ phase, t: b * width, mbPerSecond: n / 1e6 / width }));
  }
  return out;
}

const FRAMEWORK_NAMES: Record<string, [string, string]> = {
  MAP_INPUT_BYTES: ['File Input Format Counters', 'Bytes Read'],
  OUTPUT_BYTES: ['File Output Format Counters', 'Bytes Written'],
  FAILED_ATTEMPTS: ['Job Counters', 'Failed attempts'],
  RETRIED_ATTEMPTS: ['Job Counters', 'Retried attempts'],
  MAP_INPUT_RECORDS: ['Map-Reduce Framework', 'Map input records'],
  MAP_OUTPUT_RECORDS: ['Map-Reduce Framework', 'Map output records'],
  MAP_OUTPUT_BYTES: ['Map-Reduce Framework', 'Map output bytes'],
  COMBINE_INPUT_RECORDS: ['Map-Reduce Framework', 'Combine input records'],
  COMBINE_OUTPUT_RECORDS: ['Map-Reduce Framework', 'Combine output records'],
  REDUCE_INPUT_GROUPS: ['Map-Reduce Framework', 'Reduce input groups'],
  REDUCE_INPUT_RECORDS: ['Map-Reduce Framework', 'Reduce input records'],
  REDUCE_OUTPUT_RECORDS: ['Map-Reduce Framework', 'Reduce output records'],
  SPILLED_RECORDS: ['Map-Reduce Framework', 'Spilled Records'],
};
const GROUP_ORDER = ['Job Counters', 'Map-Reduce Framework', 'File Input Format Counters', 'File Output Format Counters'];

/**
 * Counters in Hadoop's groups and display names ("Job Counters", "Map-Reduce
 * Framework", "File Input/Output Format Counters"), then the user's groups by name.
 * Job Counters also get the launched attempts and task times, as Hadoop shows them.
 */
export function counterGroups(counters: Readonly<Record<string, number>>, attempts: readonly ReportAttempt[]): CounterGroup[] {
  const groups = new Map<string, { name: string; value: number }[]>();
  const add = (group: string, name: string, value: number) => {
    const g = groups.get(group) ?? [];
    g.push({ name, value });
    groups.set(group, g);
  };
  for (const phase of ['map', 'reduce'] as const) {
    const mine = attempts.filter((a) => a.phase === phase && a.outcome !== 'running');
    if (mine.length === 0) continue;
    add('Job Counters', `Launched ${phase} tasks`, mine.length);
    add('Job Counters', `Total time spent by all ${phase} tasks (ms)`, Math.round(mine.reduce((n, a) => n + a.seconds * 1000, 0)));
  }
  for (const [key, value] of Object.entries(counters)) {
    const known = key.startsWith(`${FRAMEWORK}.`) ? FRAMEWORK_NAMES[key.slice(FRAMEWORK.length + 1)] : undefined;
    if (known) {
      add(known[0], known[1], value);
      continue;
    }
    const dot = key.startsWith(`${FRAMEWORK}.`) ? FRAMEWORK.length : key.lastIndexOf('.');
    add(dot > 0 ? key.slice(0, dot) : 'User', dot > 0 ? key.slice(dot + 1) : key, value);
  }
  const rank = (g: string) => (GROUP_ORDER.includes(g) ? GROUP_ORDER.indexOf(g) : GROUP_ORDER.length);
  return [...groups.entries()]
    .sort(([a], [b]) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0))
    .map(([group, counters]) => ({ group, counters }));
}

export function buildJobReport(i: ReportInput): JobReport {
  const { job } = i;
  const t0 = Date.parse(job.createdAt);
  const views: AttemptView[] = jobAttempts(job, i.tasks, i.now);
  const medianSeconds: Partial<Record<TaskKind, number>> = {};
  for (const phase of ['map', 'reduce'] as const) {
    const m = median(views.filter((a) => a.kind === phase && a.outcome === 'committed').map(attemptSeconds));
    if (m !== undefined) medianSeconds[phase] = m;
  }
  const attempts: ReportAttempt[] = views.map((a) => {
    const seconds = attemptSeconds(a);
    const m = medianSeconds[a.kind];
    return {
      taskId: a.taskId,
      step: stepOfTaskId(a.taskId) + 1,
      phase: a.kind,
      attempt: a.attempt,
      worker: a.worker,
      outcome: a.outcome,
      backup: a.backup === true,
      start: (a.startedAt - t0) / 1000,
      end: (a.endedAt - t0) / 1000,
      seconds,
      straggler: m !== undefined && seconds > STRAGGLER_FACTOR * m,
      estimated: a.estimated === true,
      ...(a.inputBytes !== undefined ? { inputBytes: a.inputBytes } : {}),
      ...(a.outputBytes !== undefined ? { outputBytes: a.outputBytes } : {}),
      ...(a.reason !== undefined ? { reason: a.reason } : {}),
    };
  });
  const end = job.finishedAt
    ? (Date.parse(job.finishedAt) - t0) / 1000
    : Math.max((i.now - t0) / 1000, ...attempts.map((a) => a.end));
  const failures: FailedAttempt[] = attempts
    .filter((a) => a.outcome !== 'committed' && a.outcome !== 'running' && a.outcome !== 'superseded')
    .map((a) => {
      const stderr = i.stderr?.[`${a.taskId}/${a.attempt}`];
      return {
        taskId: a.taskId,
        attempt: a.attempt,
        worker: a.worker,
        outcome: a.outcome,
        reason: a.reason ?? (a.outcome === 'failed' ? 'no reason recorded' : a.outcome),
        ...(stderr ? { stderrTail: tail(stderr, STDERR_TAIL_LINES) } : {}),
      };
    });
  const steps = stepReports(job, attempts, end).map((s): ReportStep => {
    if (s.counters === undefined) return s;
    const mine = attempts.filter((a) => a.step === s.step);
    return { ...s, counterGroups: counterGroups(s.counters, mine) };
  });
  return {
    job,
    generatedAt: new Date(i.now).toISOString(),
    attempts,
    workers: [...new Set(attempts.map((a) => a.worker))].sort(),
    boundaries: boundaries(job, attempts, end, steps),
    medianSeconds,
    throughput: throughput(attempts, end),
    counterGroups: counterGroups(job.counters ?? {}, attempts),
    failures,
    cost: jobCost(job, views, itemSizes(job, i.tasks), i.placement ?? DEFAULT_PLACEMENT),
    steps,
  };
}
