/**
 * The job and task records as the framework sees them (DynamoDB item shapes,
 * without the table's key attributes). Pure types and key helpers.
 */
import type { Manifest } from './manifest.js';
import { stepTaskPrefix } from './steps.js';

export type JobStatus = 'CREATING' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
/** STEPPING: a multi-step job between two steps (services/step-change.ts). */
export type JobPhase = 'MAP' | 'REDUCE' | 'STEPPING' | 'FINALIZING' | 'DONE';
export type TaskKind = 'map' | 'reduce';
export type TaskStatus = 'PENDING' | 'RUNNING' | 'COMMITTED' | 'FAILED' | 'CANCELLED';

export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

/** A byte range of one input object. `end` is exclusive. A gzip object is one whole split. */
export interface InputSplit {
  /** The S3 bucket; LOCAL_FILES_BUCKET ('') for a local file of a local stack (core/input-uri.ts). */
  readonly bucket: string;
  /** The S3 key; for a local file, its absolute path without the leading '/'. */
  readonly key: string;
  readonly start: number;
  readonly end: number;
  /** Size of the whole object, so the reader knows where the last line ends. */
  readonly objectSize: number;
  readonly gzip: boolean;
}

export interface JobRecord {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly phase: JobPhase;
  /** Absent only on a job the coordinator refused before its manifest was valid (FAILED). */
  readonly manifest?: Manifest;
  /**
   * The step (0-based) whose tasks run now; absent for the first. numMaps, numReduces and
   * the committed counts below are this step's (a multi-step job: core/steps.ts).
   */
  readonly step?: number;
  /** What each finished earlier step ran, in order (the current step is not in it). */
  readonly stepsDone?: readonly StepSummary[];
  /** Set once a later step's map tasks were sent, so the checker knows whether to resend. */
  readonly mapEnqueuedAt?: string;
  readonly numMaps: number;
  /** 0 for a map-only job. */
  readonly numReduces: number;
  readonly mapsCommitted: number;
  readonly reducesCommitted: number;
  readonly inputBytes: number;
  /** A total-order job's R−1 (or fewer) sorted split points, sampled by the coordinator. */
  readonly splitPoints?: readonly string[];
  /** Set instead of splitPoints when the points are too big for the record: their S3 key (layout.splitPointsKey). */
  readonly splitPointsKey?: string;
  /** Framework and user counters, `group.name` → total over committed attempts. */
  readonly counters: Readonly<Record<string, number>>;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly finishedAt?: string;
  /** Human-readable reason for FAILED or CANCELLED. */
  readonly reason?: string;
  /** The last `reporter:status:` message of any task. */
  readonly statusMessage?: string;
  /** Set once the reduce tasks were sent, so the checker knows whether to resend. */
  readonly reduceEnqueuedAt?: string;
  /**
   * Set when this step's reduce tasks were released before its last map committed (reduce
   * slow-start, core/slow-start.ts); the phase stays MAP until every map committed.
   */
  readonly reduceReleasedAt?: string;
  readonly phaseChangedAt?: string;
  /** Set by the coordinator once every task record is written (a retried coordinator skips it). */
  readonly tasksWritten?: boolean;
  /** When the coordinator had sent every map task (CREATING → RUNNING). */
  readonly startedAt?: string;
  // Sums over this step's committed attempts, per kind (COMMITTED_STATS names them), added by
  // the commit transaction and removed by the step change; the checker's speculation reads them
  // (core/speculation.ts `committedStats`). Absent until the first commit, and on records
  // written before they existed.
  readonly mapStatCount?: number;
  readonly mapStatMs?: number;
  readonly mapStatMsSq?: number;
  readonly mapStatBytes?: number;
  readonly reduceStatCount?: number;
  readonly reduceStatMs?: number;
  readonly reduceStatMsSq?: number;
  readonly reduceStatBytes?: number;
}

/**
 * The job record's attributes that sum the current step's committed attempts of each kind:
 * how many, their durations (claim to commit, ms) and squared durations, and their input
 * bytes (map: read; reduce: merged). Top-level numbers, so the commit's `ADD` creates them
 * on a record that has none (a nested path would need its parent map to exist).
 */
export const COMMITTED_STATS = {
  map: { count: 'mapStatCount', ms: 'mapStatMs', msSq: 'mapStatMsSq', bytes: 'mapStatBytes' },
  reduce: { count: 'reduceStatCount', ms: 'reduceStatMs', msSq: 'reduceStatMsSq', bytes: 'reduceStatBytes' },
} as const satisfies Record<TaskKind, Record<string, keyof JobRecord>>;

/** A finished step of a multi-step job, as its status shows it. */
export interface StepSummary {
  readonly numMaps: number;
  readonly numReduces: number;
  /** When the step's last output task committed and the next step began to be planned. */
  readonly finishedAt: string;
  /**
   * The job's counters when the step ended (every task of the step committed): the step's
   * own are these less the step before's (core/step-report.ts). Absent on older records.
   */
  readonly counters?: Readonly<Record<string, number>>;
}

/**
 * Where a committed map attempt's output is: its intermediate object, the R+1 partition
 * offsets, and `format` 'counted' when its partitions are in the counted form
 * (core/counted-lines.ts).
 */
export interface MapOutputLocation {
  readonly key: string;
  readonly offsets: readonly number[];
  readonly format?: 'counted';
}

/** A job the coordinator accepted: it has a manifest (every job that runs tasks). */
export type AcceptedJob = JobRecord & { readonly manifest: Manifest };

export function isAccepted(job: JobRecord): job is AcceptedJob {
  return job.manifest !== undefined;
}

export interface TaskRecord {
  readonly jobId: string;
  readonly taskId: string;
  readonly kind: TaskKind;
  readonly index: number;
  /** The job step (0-based) the task belongs to; absent on the first step's tasks. */
  readonly step?: number;
  readonly status: TaskStatus;
  /** Incremented by every claim; names the attempt's output objects. */
  readonly attempt: number;
  /** Failed attempts (non-zero exit, crash, timeout). */
  readonly failures: number;
  /** Attempts taken back from a dead worker by the checker. */
  readonly stalls: number;
  readonly owner?: string;
  /** Epoch ms of the last claim. */
  readonly claimedAt?: number;
  /** Epoch ms until which the running attempt owns the task (RUNNING only). */
  readonly leaseExpiresAt?: number;
  /** Epoch ms of the commit. */
  readonly committedAt?: number;
  /** Map tasks: the byte range to read. */
  readonly split?: InputSplit;
  /** Committed map attempt: where its output is. */
  readonly output?: MapOutputLocation;
  readonly committedAttempt?: number;
  readonly lastError?: string;
  readonly requeuedAt?: number;
  /** Times the checker sent the task again after its message was dead-lettered unclaimed. */
  readonly redrives?: number;
  /**
   * Set (to the job's end status) on a running or pending task when its job is cancelled or
   * fails (services/job-end.ts): the next lease extension of any attempt of it is refused with
   * JobEndedError, so a running attempt stops within a beat without reading the job.
   */
  readonly jobEnded?: string;
  /**
   * One entry per ended attempt, appended by the transition that ended it (commit, fail,
   * reclaim, release, cancel). The job report and the job's modeled cost read it.
   */
  readonly history?: readonly AttemptEntry[];
  /** Bytes the running attempt has gone through (map: input read; reduce: merged), per heartbeat. */
  readonly progress?: number;
  /** Bytes the running attempt has to go through in all (0 or absent: not known yet). */
  readonly progressTotal?: number;
  /** Epoch ms when the running attempt's worker last saw `progress` grow (per heartbeat). */
  readonly progressAt?: number;
  // The speculative backup attempt (core/speculation.ts, docs/reliability.md). `backupAttempt`
  // is set once, by the checker, and never removed: a task gets at most one backup.
  readonly backupAttempt?: number;
  readonly backupPostedAt?: number;
  /** The backup's holder and lease while it runs (removed when it ends). */
  readonly backupOwner?: string;
  readonly backupLeaseExpiresAt?: number;
  readonly backupProgress?: number;
  /** Epoch ms of the backup's claim (kept: a backup is claimed once). */
  readonly backupClaimedAt?: number;
  /** Epoch ms when the backup ended, whichever way. */
  readonly backupEndedAt?: number;
}

/** How an attempt ended. `superseded`: another attempt of the same task committed first. */
export type AttemptOutcome = 'committed' | 'failed' | 'reclaimed' | 'released' | 'cancelled' | 'superseded';

/** What the job report needs of one attempt; written with the transition that ends it. */
export interface AttemptEntry {
  readonly attempt: number;
  readonly worker: string;
  /** Epoch ms of the claim. */
  readonly startedAt: number;
  /** Epoch ms of the transition that ended the attempt. */
  readonly endedAt: number;
  readonly outcome: AttemptOutcome;
  readonly reason?: string;
  /** A speculative backup attempt (issue: stragglers). */
  readonly backup?: boolean;
  /** Map: input bytes read. Reduce: shuffle bytes merged. */
  readonly inputBytes?: number;
  /** Bytes the attempt wrote (intermediate object or part file). */
  readonly outputBytes?: number;
  /** AWS requests the attempt made, by `Service.Operation` (e.g. `S3.GetObject`). */
  readonly requests?: Readonly<Record<string, number>>;
}

export interface WorkerRecord {
  readonly workerId: string;
  /** Epoch ms of the last heartbeat: the only source of liveness. */
  readonly heartbeatAt: number;
  readonly startedAt: number;
  readonly host: string;
  /** `jobId/taskId` of the attempt the worker runs, if any. */
  readonly runningTask?: string;
  /** The attempt number of `runningTask`: the checker reclaims a lease its owner no longer names. */
  readonly runningAttempt?: number;
}

const PAD = 5;

/**
 * `m-00042` / `r-00003`: sortable, and the reduce index is the part number. Tasks of a
 * later step of a multi-step job carry its prefix (`s2-m-00042`, core/steps.ts).
 */
export function taskId(kind: TaskKind, index: number, step = 0): string {
  return `${stepTaskPrefix(step)}${kind === 'map' ? 'm' : 'r'}-${String(index).padStart(PAD, '0')}`;
}

/** `part-00000`: the Hadoop output file name for a partition or map-only task. */
export function partName(index: number): string {
  return `part-${String(index).padStart(PAD, '0')}`;
}

/** Job ids: URL- and key-safe, sortable by time when generated by the CLI. */
const JOB_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function isValidJobId(id: string): boolean {
  return JOB_ID_RE.test(id) && !id.includes('..');
}

/** A new time-sortable job id: `20261123-221501-ab12cd`. */
export function newJobId(now: Date = new Date(), random: () => number = Math.random): string {
  const iso = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  const suffix = Math.floor(random() * 0xffffff)
    .toString(16)
    .padStart(6, '0');
  return `${iso}-${suffix}`;
}
