/**
 * The conditional writes of the job state machine, as plain expressions: one builder per
 * transition, so every fence is read (and unit-tested through aws/job-store.test.ts) in one
 * place, like aws/task-writes.ts for tasks. The JobStore (aws/job-store.ts) sends them.
 */
import { COMMITTED_STATS, type StepSummary } from '../core/model.js';

/** One guarded update of the job record: the store adds table, key and attribute names. */
export interface JobWrite {
  readonly update: string;
  readonly condition: string;
  readonly values: Record<string, unknown>;
  /** Names besides `#status` and `#phase` (which every write may use). */
  readonly names?: Record<string, string>;
}

/** The job record is at step `:from` (the first step's record may have no `step`). */
const stepIs = (from: number) => (from === 0 ? '(attribute_not_exists(#step) OR #step = :from)' : '#step = :from');
const STEP_NAME = { '#step': 'step' };

/** Coordinator: task records are written; a retried coordinator skips rewriting them. */
export function tasksWrittenWrite(now: string): JobWrite {
  return { update: 'SET tasksWritten = :t, updatedAt = :now', condition: '#status = :creating', values: { ':t': true, ':now': now, ':creating': 'CREATING' } };
}

/** Coordinator: how far a large plan got (services/plan-writer.ts), so a retried coordinator resumes there. */
export function planProgressWrite(field: 'planWritten' | 'planSent', done: number, now: string): JobWrite {
  return {
    update: `SET ${field} = :done, updatedAt = :now`,
    condition: '#status = :creating',
    values: { ':done': done, ':now': now, ':creating': 'CREATING' },
  };
}

/** Coordinator: all map tasks are sent; CREATING → RUNNING. */
export function runningWrite(now: string): JobWrite {
  return {
    update: 'SET #status = :running, startedAt = :now, updatedAt = :now',
    condition: '#status = :creating',
    values: { ':running': 'RUNNING', ':creating': 'CREATING', ':now': now },
  };
}

/**
 * Start the reduce phase exactly once: MAP → REDUCE, only when every map committed.
 *
 *   worker A commits m-7 (7/8) ──┐
 *   worker B commits m-8 (8/8) ──┼─ both read 8/8, both call this
 *                                └─ one write wins (phase = MAP held for one), one sends reduce tasks
 */
export function reducePhaseWrite(now: string): JobWrite {
  return {
    update: 'SET #phase = :reduce, phaseChangedAt = :now, updatedAt = :now',
    condition: '#status IN (:creating, :running) AND #phase = :map AND mapsCommitted = numMaps AND numReduces > :zero',
    values: { ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':now': now },
  };
}

/**
 * Release step `step`'s reduce tasks before its map phase ends (reduce slow-start), exactly
 * once: only in the map phase, only when at least `threshold` maps committed (the caller
 * computes ceil(f × M), core/slow-start.ts), only if not released yet.
 *
 *   worker A commits m-2 (2/8, threshold 2) ──┐
 *   checker sweep reads 2/8 ──────────────────┼─ both call this
 *                                             └─ one write wins (reduceReleasedAt unset for one), one sends the reduces
 */
export function releaseReducesWrite(step: number, threshold: number, now: string): JobWrite {
  return {
    update: 'SET reduceReleasedAt = :now, updatedAt = :now',
    condition:
      `#status IN (:creating, :running) AND #phase = :map AND ${stepIs(step)} AND attribute_not_exists(reduceReleasedAt) ` +
      'AND numReduces > :zero AND mapsCommitted >= :threshold',
    values: { ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':threshold': threshold, ':from': step, ':now': now },
    names: STEP_NAME,
  };
}

/** The reduce tasks were sent: after the phase change, or after an early release. */
export function reduceEnqueuedWrite(now: string): JobWrite {
  return {
    update: 'SET reduceEnqueuedAt = :now',
    condition: '#phase = :reduce OR (#phase = :map AND attribute_exists(reduceReleasedAt))',
    values: { ':reduce': 'REDUCE', ':map': 'MAP', ':now': now },
  };
}

/**
 * Enter FINALIZING once all output tasks committed (reduces, or maps of a map-only job).
 * Only one caller wins; a crashed finisher is resumed by the checker (FINALIZING is
 * idempotent: it only copies committed parts and writes _SUCCESS).
 */
export function finalizeWrite(now: string): JobWrite {
  return {
    update: 'SET #phase = :fin, phaseChangedAt = :now, updatedAt = :now',
    condition:
      '#status IN (:creating, :running) AND ((#phase = :reduce AND reducesCommitted = numReduces) OR ' +
      '(#phase = :map AND numReduces = :zero AND mapsCommitted = numMaps))',
    values: { ':fin': 'FINALIZING', ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':now': now },
  };
}

/**
 * Leave a finished intermediate step exactly once: MAP/REDUCE → STEPPING, only when every
 * output task of step `from` committed (services/step-change.ts). Like beginFinalize:
 * one winner plans the next step; the checker resumes a STEPPING job whose planner died.
 */
export function stepChangeWrite(from: number, now: string): JobWrite {
  return {
    update: 'SET #phase = :stepping, phaseChangedAt = :now, updatedAt = :now',
    condition:
      `#status IN (:creating, :running) AND ${stepIs(from)} AND ((#phase = :reduce AND reducesCommitted = numReduces) OR ` +
      '(#phase = :map AND numReduces = :zero AND mapsCommitted = numMaps))',
    values: { ':stepping': 'STEPPING', ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':from': from, ':now': now },
    names: STEP_NAME,
  };
}

/** The next step's task counts and the summary of the step just done (enterStepWrite). */
export interface NextStep {
  readonly numMaps: number;
  readonly numReduces: number;
  readonly done: StepSummary;
}

/** The committed-attempt sums of a step (job-commit-write.ts jobCommitWrite): the next step starts without. */
const STAT_ATTRIBUTES = [...Object.values(COMMITTED_STATS.map), ...Object.values(COMMITTED_STATS.reduce)].join(', ');

/**
 * STEPPING (step `from`) → MAP of step `from + 1`, with its task counts, once its task
 * records are written. The one write that makes the next step current: of two planners
 * (a worker and the checker resuming it) only one wins; the loser sends nothing. The
 * committed counts and their sums (speculation's reference) start again from none.
 */
export function enterStepWrite(from: number, next: NextStep, now: string): JobWrite {
  return {
    update:
      'SET #step = :next, #phase = :map, numMaps = :maps, numReduces = :reduces, mapsCommitted = :zero, reducesCommitted = :zero, ' +
      'stepsDone = list_append(if_not_exists(stepsDone, :empty), :done), phaseChangedAt = :now, updatedAt = :now ' +
      `REMOVE reduceEnqueuedAt, reduceReleasedAt, mapEnqueuedAt, splitPoints, ${STAT_ATTRIBUTES}`,
    condition: `#status IN (:creating, :running) AND #phase = :stepping AND ${stepIs(from)}`,
    values: {
      ':next': from + 1,
      ':map': 'MAP',
      ':maps': next.numMaps,
      ':reduces': next.numReduces,
      ':zero': 0,
      ':empty': [],
      ':done': [next.done],
      ':stepping': 'STEPPING',
      ':running': 'RUNNING',
      ':creating': 'CREATING',
      ':from': from,
      ':now': now,
    },
    names: STEP_NAME,
  };
}

/** A later step's map tasks are sent (the checker resends them while this is unset). */
export function mapEnqueuedWrite(step: number, now: string): JobWrite {
  return { update: 'SET mapEnqueuedAt = :now', condition: `#phase = :map AND #step = :step`, values: { ':map': 'MAP', ':step': step, ':now': now }, names: STEP_NAME };
}

/** FINALIZING → SUCCEEDED/DONE; the job leaves the active index. */
export function succeedWrite(now: string): JobWrite {
  return {
    update: 'SET #status = :succeeded, #phase = :done, finishedAt = :now, updatedAt = :now REMOVE activeKind, activeSort',
    condition: '#status IN (:creating, :running) AND #phase = :fin',
    values: { ':succeeded': 'SUCCEEDED', ':done': 'DONE', ':running': 'RUNNING', ':creating': 'CREATING', ':fin': 'FINALIZING', ':now': now },
  };
}

/**
 * FAILED or CANCELLED, from any non-terminal status, with a human-readable reason. A cancel
 * is refused once the job is FINALIZING, so cancel and the finisher fence on each other:
 *
 *   cancel ✓ (phase REDUCE) ──▶ beginFinalize ✗ (status CANCELLED): no parts copied, no _SUCCESS
 *   beginFinalize ✓ (phase FINALIZING) ──▶ cancel ✗ ("finishing") ──▶ _SUCCESS, SUCCEEDED
 *
 * Either the job succeeds with _SUCCESS or it is cancelled without it, never both.
 */
export function endWrite(status: 'FAILED' | 'CANCELLED', reason: string, now: string): JobWrite {
  const cancel = status === 'CANCELLED';
  return {
    update: 'SET #status = :status, reason = :reason, finishedAt = :now, updatedAt = :now REMOVE activeKind, activeSort',
    condition: cancel ? '#status IN (:creating, :running) AND #phase <> :fin' : '#status IN (:creating, :running)',
    values: {
      ':status': status,
      ':reason': reason,
      ':now': now,
      ':creating': 'CREATING',
      ':running': 'RUNNING',
      ...(cancel ? { ':fin': 'FINALIZING' } : {}),
    },
  };
}
