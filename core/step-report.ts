/**
 * The per-step part of `mapreduce report` for a multi-step job (core/steps.ts): each
 * step's state, task progress, time span, attempts and counters. Pure.
 *
 * A step's span runs from the end of the step before it (the job's creation for the
 * first) to its own end, so the spans tile the job's time, planning between steps
 * included:
 *
 *   created ── step 1 ──▶ stepsDone[0].finishedAt ── step 2 ──▶ stepsDone[1].finishedAt ── step 3 ──▶ finishedAt | now
 *
 * A step's counters are the job's counters when it ended (StepSummary.counters, taken by
 * the step change) less those when the step before it ended; the current or last step's
 * are the job's counters less the last finished step's.
 */
import { subtractCounters } from './reporter.js';
import type { JobRecord, StepSummary } from './model.js';
import { stepOfTaskId } from './steps.js';
import type { Step } from './manifest.js';

export type StepState = 'done' | 'running' | 'failed' | 'cancelled' | 'pending';

export interface StepReport {
  /** 1-based. */
  readonly step: number;
  readonly state: StepState;
  readonly mapper: string;
  /** Absent: a map-only step. */
  readonly reducer?: string;
  /** Task counts and commits; absent for a step not planned yet. */
  readonly numMaps?: number;
  readonly numReduces?: number;
  readonly mapsCommitted?: number;
  readonly reducesCommitted?: number;
  /** Seconds since the job was created; absent for a step not started. */
  readonly start?: number;
  readonly end?: number;
  readonly seconds?: number;
  readonly attempts: number;
  readonly failedAttempts: number;
  /** The step's own counters; absent when not known (a step ended before they were recorded). */
  readonly counters?: Readonly<Record<string, number>>;
}

/** What a step's report needs of an attempt. */
export interface StepAttempt {
  readonly taskId: string;
  readonly outcome: string;
}

const describeStep = (s: Step): string => (typeof s === 'string' ? s : `module ${s.module}`);

function stepCounters(job: JobRecord, done: readonly StepSummary[], index: number): Readonly<Record<string, number>> | undefined {
  const after = index < done.length ? done[index]!.counters : job.counters;
  const before = index === 0 ? {} : done[index - 1]!.counters;
  if (after === undefined || before === undefined) return undefined;
  return subtractCounters(after, before);
}

/** One report per step of the job's manifest, in order; `end` is the report's end (seconds since creation). */
export function stepReports(job: JobRecord, attempts: readonly StepAttempt[], end: number): StepReport[] {
  const steps = job.manifest?.steps ?? [];
  const t0 = Date.parse(job.createdAt);
  const done = job.stepsDone ?? [];
  const current = job.step ?? 0;
  const at = (iso: string) => (Date.parse(iso) - t0) / 1000;
  return steps.map((def, i): StepReport => {
    const mine = attempts.filter((a) => stepOfTaskId(a.taskId) === i);
    const base = {
      step: i + 1,
      mapper: describeStep(def.mapper),
      ...(def.reducer !== undefined && def.numReducers > 0 ? { reducer: describeStep(def.reducer) } : {}),
      attempts: mine.length,
      failedAttempts: mine.filter((a) => a.outcome === 'failed').length,
    };
    if (i > current) return { ...base, state: 'pending' };
    const start = i === 0 ? 0 : at(done[i - 1]!.finishedAt);
    const finished = i < current ? done[i] : undefined;
    const stepEnd = finished ? at(finished.finishedAt) : end;
    const state: StepState = finished
      ? 'done'
      : job.status === 'SUCCEEDED'
        ? 'done'
        : job.status === 'FAILED'
          ? 'failed'
          : job.status === 'CANCELLED'
            ? 'cancelled'
            : 'running';
    const counters = stepCounters(job, done, i);
    return {
      ...base,
      state,
      numMaps: finished ? finished.numMaps : job.numMaps,
      numReduces: finished ? finished.numReduces : job.numReduces,
      mapsCommitted: finished ? finished.numMaps : job.mapsCommitted,
      reducesCommitted: finished ? finished.numReduces : job.reducesCommitted,
      start,
      end: stepEnd,
      seconds: Math.max(0, stepEnd - start),
      ...(counters ? { counters } : {}),
    };
  });
}
