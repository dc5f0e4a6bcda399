/**
 * The step change of a multi-step job (core/steps.ts): when the last output task of an
 * intermediate step commits, its committed parts become the next step's input under
 * tmp/<job>/steps/<n>/, the next step's task records are written, and one conditional
 * write makes it current. Every part is re-entrant, so the checker resumes a planner
 * that died (a worker killed between two steps):
 *
 *   worker: last task of step n commits
 *     ├─ beginStepChange   MAP|REDUCE (step n, all committed) → STEPPING   one winner
 *     ├─ copy parts        tmp/<job>/{map,out}/<task>/attempt-k → tmp/<job>/steps/n/part-i   idempotent
 *     ├─ putNew tasks      s<n+1>-m-*, s<n+1>-r-*   never overwrites              idempotent
 *     ├─ enterStep         STEPPING (step n) → MAP (step n+1), counts reset       one winner
 *     └─ send map tasks, markMapEnqueued                                           duplicates deduped by claims
 *   checker: STEPPING for longer than a lease → the same from copy on (resume);
 *            MAP of step n+1 without mapEnqueuedAt for longer than a lease → send again.
 */
import { isMapOnly } from '../core/manifest.js';
import { DEFAULT_SPLIT_SIZE, MANIFEST_LIMITS } from '../core/manifest-limits.js';
import { stepOutputPrefix } from '../core/layout.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { type AcceptedJob, type JobRecord, partName, taskId, type TaskRecord } from '../core/model.js';
import { ownJobConf, settingsOf } from '../core/job-settings.js';
import { mapDispatchOrder } from '../core/dispatch-order.js';
import { computeSplits } from '../core/splits.js';
import { stepView } from '../core/steps.js';
import { type Services, forEachLimit, iso } from './context.js';
import { planTasks } from './plan-writer.js';
import { sendTaskMessages } from './task-lifecycle.js';

/** The committed output objects of a step's output tasks, as the next step's input objects. */
export function stepInputs(bucket: string, jobId: string, step: number, outputTasks: readonly TaskRecord[]) {
  const prefix = stepOutputPrefix(jobId, step);
  return outputTasks.map((t) => ({
    from: t.output!.key,
    bucket,
    key: `${prefix}${partName(t.index)}`,
    size: t.output!.offsets[t.output!.offsets.length - 1] ?? 0,
  }));
}

/**
 * Move a job whose intermediate step `job.step` finished to the next step. `resume`
 * (the checker, for a STEPPING job) skips the guard. Returns true when this call made
 * the next step current.
 */
export async function changeStep(s: Services, job: AcceptedJob, resume = false): Promise<boolean> {
  const from = job.step ?? 0;
  const kind = job.numReduces > 0 ? 'reduce' : 'map';
  const [guarded, tasks] = await Promise.all([
    resume ? true : s.jobs.beginStepChange(job.jobId, from, iso(s.now())),
    s.tasks.list(job.jobId, kind, from),
  ]);
  if (!guarded) return false;
  const missing = tasks.filter((t) => t.status !== 'COMMITTED' || !t.output);
  if (missing.length > 0 || tasks.length !== (kind === 'map' ? job.numMaps : job.numReduces)) {
    throw new Error(`Cannot leave step ${from + 1} of ${job.jobId}: ${missing.map((t) => t.taskId).join(', ') || 'tasks missing'} not committed`);
  }
  const inputs = stepInputs(s.names.bucket, job.jobId, from, tasks);
  await forEachLimit(inputs, 8, (o) => s.blobs.copy({ bucket: s.names.bucket, key: o.from }, { bucket: o.bucket, key: o.key }));
  const next = stepView(job.manifest, from + 1);
  // The parts are split by size (one map per part when small), as Hadoop splits a chained
  // job's input; a map count applies only when the step's own jobconf gives one.
  const hint = settingsOf({ jobconf: ownJobConf(job.manifest.steps[from + 1]!.jobconf) }).mapsHint;
  const splits = computeSplits(inputs, {
    splitSize: hint === undefined ? (next.splitSize ?? DEFAULT_SPLIT_SIZE) : undefined,
    numMappers: hint,
    maxSplits: MANIFEST_LIMITS.maxMapTasks,
  });
  const numReduces = isMapOnly(next) ? 0 : next.numReducers;
  const plan = { jobId: job.jobId, splits, numReduces, step: from + 1 };
  // Every task record of the step (a part count of maps plus its reduces), never overwriting.
  const records = planTasks(plan, 0, splits.length + numReduces);
  const chunks = Array.from({ length: Math.ceil(records.length / 100) }, (_, i) => records.slice(i * 100, i * 100 + 100));
  await forEachLimit(chunks, 4, (c) => s.tasks.putNew(c));
  const now = iso(s.now());
  // The job's counters now hold every committed task of the step (a commit adds its counters
  // in the transaction that counts it): the step report takes the step's share from them.
  const done = { numMaps: job.numMaps, numReduces: job.numReduces, finishedAt: now, counters: job.counters };
  if (!(await s.jobs.enterStep(job.jobId, from, { numMaps: splits.length, numReduces, done }, now))) return false;
  s.log.info(LOG_EVENTS.stepStarted, { jobId: job.jobId, step: from + 2, of: job.manifest.steps.length, numMaps: splits.length, numReduces });
  // Largest part first, as the first step's plan sends its splits (core/dispatch-order.ts):
  // a step's input parts are as uneven as its previous step's partitions.
  await enqueueStepMaps(s, { ...job, step: from + 1, numMaps: splits.length }, mapDispatchOrder(splits));
  return true;
}

/**
 * Send the map tasks of a later step (duplicates are harmless: claims dedupe), in `order`
 * (map indices) when given; the checker's re-send, which has no splits at hand, sends them
 * in index order.
 */
export async function enqueueStepMaps(
  s: Services,
  job: Pick<JobRecord, 'jobId' | 'step' | 'numMaps'>,
  order?: readonly number[],
): Promise<void> {
  const step = job.step ?? 0;
  const indices = order ?? Array.from({ length: job.numMaps }, (_, i) => i);
  const ids = indices.map((i) => taskId('map', i, step));
  for (let i = 0; i < ids.length; i += 500) await sendTaskMessages(s.taskQueue, job.jobId, ids.slice(i, i + 500));
  await s.jobs.markMapEnqueued(job.jobId, step, iso(s.now()));
}
