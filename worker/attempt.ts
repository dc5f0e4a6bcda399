/**
 * What a map or reduce attempt gets and returns. Built by the task runner for
 * each claimed task.
 */

import type { MapOutputRef } from '../aws/items.js';
import type { TaskItem } from '../aws/task-store.js';
import type { WorkerSettings } from '../core/config.js';
import type { AcceptedJob, MapOutputLocation } from '../core/model.js';
import { stepView, type StepView } from '../core/steps.js';
import type { Services } from '../services/context.js';
import type { StepContext, StepResult, StepRole } from './step/index.js';

export interface AttemptInput {
  readonly services: Services;
  readonly job: AcceptedJob;
  readonly task: TaskItem;
  /** The job step the task belongs to, as a single-step job (core/steps.ts). */
  readonly step: StepView;
  readonly workDir: string;
  readonly settings: WorkerSettings;
  /** Aborted when the lease is lost, the job is cancelled, or the worker shuts down. */
  readonly signal: AbortSignal;
  /** Bytes gone through so far (the heartbeat writes it with the lease: core/speculation.ts reads it). */
  readonly progress: ProgressMeter;
  /**
   * Reduce: the step's map tasks, listed while the claim was in flight (undefined when the
   * listing failed or was not made: the reduce lists them itself).
   */
  readonly mapListing?: Promise<readonly MapOutputRef[] | undefined>;
  /** A step context for the given role (env, timeouts, counter and status callbacks). */
  stepContext(role: StepRole): Omit<StepContext, 'signal'>;
}

/** Map: input bytes the step took of the split. Reduce: shuffle bytes merged into the reducer. */
export interface ProgressMeter {
  done: number;
  total: number;
}

export interface AttemptResult extends StepResult {
  /**
   * The attempt's temp object and its partition offsets (R+1 numbers; [0, size] for a single
   * part); `format` 'counted' for a map output in the counted form (core/counted-lines.ts).
   */
  readonly output: MapOutputLocation;
  /** Framework counters of this attempt (user counters are collected by the runner). */
  readonly counters: Record<string, number>;
}

/** An attempt's input without its step and step contexts (attemptInput adds those). */
export type AttemptBase = Omit<AttemptInput, 'step' | 'stepContext'>;

/**
 * An attempt's input: the task's step of the job (core/steps.ts), and for each role a step
 * context in the attempt's work directory with what `context(step)` gives (env, timeouts,
 * callbacks), made anew for each call.
 */
export function attemptInput(base: AttemptBase, context: (step: StepView) => Omit<StepContext, 'signal' | 'role' | 'workDir'>): AttemptInput {
  const step = stepView(base.job.manifest, base.task.step ?? 0);
  return { ...base, step, stepContext: (role) => ({ role, workDir: base.workDir, ...context(step) }) };
}
