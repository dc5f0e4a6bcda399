/**
 * Multi-step jobs (a manifest's `steps`): the view of one step that map and reduce
 * attempts run with, the step's task ids, and where an intermediate step's output lives.
 * Pure: no AWS imports. Every job has steps (a single-step manifest is `steps: [it]`,
 * core/manifest.ts), so single- and multi-step jobs take the same path.
 *
 *   step 1: input ──map/reduce──▶ tmp/<job>/steps/1/part-*   (never the user's output)
 *   step 2: tmp/<job>/steps/1/ ──map/reduce──▶ tmp/<job>/steps/2/part-*
 *   step 3: tmp/<job>/steps/2/ ──map/reduce──▶ <output>/part-*, _SUCCESS
 */
import { applyJobConf, overlayJobConf } from './job-settings.js';
import type { Manifest, ManifestStep } from './manifest.js';
import type { JobRecord } from './model.js';

/**
 * One step of a job as a single-step job: the job-wide fields, the step's mapper,
 * reducer, combiner and reducer count, and the job-wide jobconf overridden by the step's,
 * less the keys the step sets to null (with what it controls applied: attempts, timeout,
 * sort factor).
 */
export type StepView = Omit<Manifest, 'steps'> &
  ManifestStep & {
    /** 0-based. */
    readonly stepIndex: number;
    readonly stepCount: number;
  };

/** The view of step `index` (0-based) of a validated manifest. */
export function stepView(m: Manifest, index: number): StepView {
  const step = m.steps[index];
  if (step === undefined) throw new RangeError(`step ${index + 1} of a ${m.steps.length}-step job`);
  const { steps, ...jobWide } = m;
  // A step's null removes a job-wide key for the step (mrjob's step jobconf None).
  const merged = applyJobConf({ ...jobWide, ...step, jobconf: overlayJobConf(m.jobconf, step.jobconf) });
  // The step's numReducers is already resolved (its own, its jobconf's, the job's): a
  // job-wide mapreduce.job.reduces must not override a step's own count.
  return { ...merged, numReducers: step.numReducers, stepIndex: index, stepCount: steps.length };
}

/** True for the last step: the one that writes the user's output and `_SUCCESS`. */
export function isLastStep(m: Pick<Manifest, 'steps'>, index: number): boolean {
  return index >= m.steps.length - 1;
}

/**
 * The task-id prefix of a step: none for the first (a single-step job's ids stay
 * `m-00003`), `s2-` for the second and so on, so ids never collide across steps and
 * one step's tasks are listed by prefix (`s2-m-` is no prefix of `s12-m-`).
 */
export function stepTaskPrefix(index: number): string {
  return index === 0 ? '' : `s${index + 1}-`;
}

/** The 0-based step of a task id (`m-00003` → 0, `s2-r-00001` → 1). */
export function stepOfTaskId(id: string): number {
  const m = /^s(\d+)-/.exec(id);
  return m ? Number(m[1]) - 1 : 0;
}

/** The index of a task within its step and kind, from its id (`m-00003` → 3, `s2-r-00001` → 1). */
export function indexOfTaskId(id: string): number {
  const m = /-(\d+)$/.exec(id);
  if (!m) throw new Error(`not a task id: ${id}`);
  return Number(m[1]);
}

/** True for a map task's id, of any step (`m-00003`, `s2-m-00003`). */
export function isMapTaskId(id: string): boolean {
  return /^(?:s\d+-)?m-/.test(id);
}

/**
 * A job's step progress for status lines: `step 2/3` (1-based) and what each finished
 * step ran. Empty for a single-step job.
 */
export function stepProgressLines(job: Pick<JobRecord, 'manifest' | 'step' | 'stepsDone'>): string[] {
  const count = job.manifest?.steps?.length ?? 1;
  if (count <= 1) return [];
  const current = job.step ?? 0;
  return (job.stepsDone ?? []).map(
    (d, i) => `Step ${i + 1}/${count}: done, ${d.numMaps} maps, ${d.numReduces} reduces (finished ${d.finishedAt})`,
  ).concat(`Step ${current + 1}/${count}: current (the Map and Reduce lines below are this step's)`);
}

/** "step 2/3" (1-based), for status lines and reasons; empty for a single-step job. */
export function stepLabel(index: number, count: number): string {
  return count > 1 ? `step ${index + 1}/${count}` : '';
}
