/**
 * Job phase changes shared by workers (the fast path, right after a commit) and
 * the checker (the safety net). Each step is guarded so that any number of
 * concurrent callers act once.
 */
import { settingsOf } from '../core/job-settings.js';
import { GZIP_EXTENSION } from '../core/jobconf.js';
import { type AcceptedJob, isAccepted, partName, type JobRecord, type TaskRecord, taskId } from '../core/model.js';
import { reduceReleaseThreshold, shouldReleaseReduces } from '../core/slow-start.js';
import { isLastStep, stepView } from '../core/steps.js';
import { changeStep } from './step-change.js';
import { asPrefix, parseS3Uri } from '../core/s3uri.js';
import { type Services, forEachLimit, iso } from './context.js';
import { sendTaskMessages } from './task-lifecycle.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { controlBarrier } from './control-barrier.js';
import { deleteSucceededJobTmp } from './tmp-cleanup.js';

/** Send the reduce tasks of a job (duplicates are harmless: claims dedupe). */
export async function enqueueReduceTasks(s: Services, job: JobRecord): Promise<void> {
  const ids = Array.from({ length: job.numReduces }, (_, i) => taskId('reduce', i, job.step ?? 0));
  await sendTaskMessages(s.taskQueue, job.jobId, ids);
  await s.jobs.markReduceEnqueued(job.jobId, iso(s.now()));
}

/**
 * Called after a commit with a fresh job record: start the reduce phase when the
 * last map committed, or finish the job when the last output task committed.
 * Returns what it did, for logs and tests.
 */
export async function advanceJob(
  s: Services,
  job: JobRecord,
): Promise<'reduces-released' | 'reduce-started' | 'step-started' | 'finished' | 'none'> {
  // A job is CREATING until the coordinator has sent every map task; its tasks may already run.
  if (job.status !== 'RUNNING' && job.status !== 'CREATING') return 'none';
  // Reduce slow-start (the jobconf is read only while a release is possible at all).
  const early = job.phase === 'MAP' && job.reduceReleasedAt === undefined && job.mapsCommitted < job.numMaps && job.numReduces > 0;
  if (early && isAccepted(job) && shouldReleaseReduces(job, slowStartOf(job))) return releaseReduces(s, job);
  if (job.phase === 'MAP' && job.mapsCommitted >= job.numMaps) {
    if (job.numReduces === 0) return endStep(s, job);
    if (await s.jobs.startReducePhase(job.jobId, iso(s.now()))) {
      s.log.info(LOG_EVENTS.reducePhaseStarted, { jobId: job.jobId, numReduces: job.numReduces });
      await controlBarrier('phase-change');
      // Released early (slow-start) and sent: the reducers run already.
      if (job.reduceEnqueuedAt === undefined) await enqueueReduceTasks(s, job);
      // Early reducers may all have committed before this phase change (its worker died
      // between the last map commit and this write): finish now rather than at the next sweep.
      if (job.reducesCommitted >= job.numReduces) return endStep(s, { ...job, phase: 'REDUCE' });
      return 'reduce-started';
    }
    return 'none';
  }
  if (job.phase === 'REDUCE' && job.reducesCommitted >= job.numReduces) return endStep(s, job);
  return 'none';
}

/** The job after a commit: its record, and whether the caller's read was the won FINALIZING guard. */
export interface JobAfterCommit {
  readonly won: boolean;
  readonly job: JobRecord | undefined;
  /** The step's output tasks, listed beside the won guard (likelyLastOutput), for the finish. */
  readonly outputs?: Promise<TaskRecord[]>;
}

/**
 * Whether the committer of an output task of `job` (its record as the attempt was claimed
 * with) is likely the step's last: every other output task had committed by then (always
 * so for one reducer, or one map of a map-only job). Its finish's task list then goes out
 * beside the FINALIZING guard instead of after it (one round trip less between the last
 * commit and `_SUCCESS`); a wrong guess costs one listing, and the guard still decides.
 */
export function likelyLastOutput(job: Pick<JobRecord, 'numMaps' | 'numReduces' | 'mapsCommitted' | 'reducesCommitted'>): boolean {
  return job.numReduces > 0 ? job.reducesCommitted >= job.numReduces - 1 : job.mapsCommitted >= job.numMaps - 1;
}

/**
 * The job read that follows a commit. The committer of an output task of the last step (a
 * reduce, or a map of a map-only job) sends the FINALIZING guard itself instead of a read:
 * the guard's refusal returns the record as a read would (so advanceJob sees what it would
 * have read), and a won guard is the write advanceJob would have made next (one call less
 * per job). Every other committer reads the job (consistent read).
 *
 *   last reduce:   commit ✓ ── guard ✓ (record after) ── copy parts, _SUCCESS, SUCCEEDED
 *   other reduce:  commit ✓ ── guard ✗ (record as it stood) ── advanceJob: nothing to do
 */
export async function readAfterCommit(
  s: Services,
  job: AcceptedJob,
  task: { readonly kind: 'map' | 'reduce'; readonly step?: number },
): Promise<JobAfterCommit> {
  const outputTask = task.kind === 'reduce' || job.numReduces === 0;
  if (!outputTask || !isLastStep(job.manifest, task.step ?? 0)) return { won: false, job: await s.jobs.get(job.jobId) };
  const outputs = likelyLastOutput(job) ? s.tasks.list(job.jobId, task.kind, task.step ?? 0) : undefined;
  outputs?.catch(() => {}); // awaited only when the guard is won; finalizeJob lists again if it failed
  const r = await s.jobs.beginFinalizeOrRead(job.jobId, iso(s.now()));
  return r.won && outputs ? { ...r, outputs } : r;
}

/** advanceJob on what readAfterCommit returned: a won guard goes straight to the finish. */
export async function advanceAfterCommit(s: Services, r: JobAfterCommit): Promise<'reduces-released' | 'reduce-started' | 'step-started' | 'finished' | 'none'> {
  if (!r.job) return 'none';
  if (r.won) return (await finalizeJob(s, r.job, true, r.outputs)) ? 'finished' : 'none';
  return advanceJob(s, r.job);
}

/** The current step's slow-start fraction (its jobconf, else the job's; default 1). */
function slowStartOf(job: AcceptedJob): number {
  const m = job.manifest;
  const step = job.step ?? 0;
  return settingsOf(m.steps?.[step] !== undefined ? stepView(m, step) : m).reduceSlowStart;
}

/**
 * Reduce slow-start: enough maps committed, release the reduce tasks while the other maps
 * run (one fenced write, so concurrent committers and the checker release once). The early
 * reducers fetch committed map outputs as they appear (worker/map-output-watch.ts); the
 * phase stays MAP until the last map commits. The checker resends if the winner died
 * between the write and the send.
 */
async function releaseReduces(s: Services, job: AcceptedJob): Promise<'reduces-released' | 'none'> {
  const threshold = reduceReleaseThreshold(slowStartOf(job), job.numMaps);
  if (!(await s.jobs.releaseReduces(job.jobId, job.step ?? 0, threshold, iso(s.now())))) return 'none';
  s.log.info(LOG_EVENTS.reducesReleased, { jobId: job.jobId, numReduces: job.numReduces, mapsCommitted: job.mapsCommitted, numMaps: job.numMaps });
  await controlBarrier('release');
  await enqueueReduceTasks(s, job);
  return 'reduces-released';
}

/** Every output task of the current step committed: the next step, or the job's output. */
async function endStep(s: Services, job: JobRecord): Promise<'step-started' | 'finished' | 'none'> {
  if (isAccepted(job) && !isLastStep(job.manifest, job.step ?? 0)) {
    if (!(await changeStep(s, job))) return 'none';
    // A step with no input (all parts empty) has nothing to wait for: move on at once.
    const fresh = await s.jobs.get(job.jobId);
    if (fresh && fresh.numMaps === 0) await advanceJob(s, fresh);
    return 'step-started';
  }
  return (await finalizeJob(s, job)) ? 'finished' : 'none';
}

/**
 * Make the committed output visible: copy every committed attempt's temp object to
 * `<output>/part-NNNNN`, write `_SUCCESS`, mark the job SUCCEEDED. Idempotent, so the
 * checker can resume a finisher that crashed (`resume` skips the phase guard).
 */
export async function finalizeJob(s: Services, job: JobRecord, resume = false, listed?: Promise<TaskRecord[]>): Promise<boolean> {
  const kind = job.numReduces > 0 ? 'reduce' : 'map';
  const list = () => s.tasks.list(job.jobId, kind, job.step ?? 0);
  const notCommitted = (tasks: readonly TaskRecord[]) => tasks.filter((t) => t.status !== 'COMMITTED' || !t.output);
  // The caller saw every output task committed, so the list can be read while the guard is
  // taken: one round trip less between the last commit and _SUCCESS. A list the committer
  // took beside its guard (`listed`) is used when it shows every task committed.
  const [guarded, first] = await Promise.all([
    resume ? true : s.jobs.beginFinalize(job.jobId, iso(s.now())),
    (listed ?? list()).catch((err: unknown) => (listed ? undefined : Promise.reject(err))),
  ]);
  if (!guarded) return false;
  const tasks = first && (!listed || notCommitted(first).length === 0) ? first : await list();
  if (!job.manifest) throw new Error(`Cannot finalize ${job.jobId}: it has no manifest`);
  const out = asPrefix(parseS3Uri(job.manifest.output));
  const missing = notCommitted(tasks);
  if (missing.length > 0) {
    throw new Error(`Cannot finalize ${job.jobId}: ${missing.map((t) => t.taskId).join(', ')} not committed`);
  }
  // A compressed job's last step wrote gzip parts (worker/part-writer.ts): Hadoop names them with the codec's extension.
  const ext = settingsOf(stepView(job.manifest, job.step ?? 0)).compressOutput ? GZIP_EXTENSION : '';
  await forEachLimit(tasks, 8, async (t) => {
    await s.blobs.copy(
      { bucket: s.names.bucket, key: t.output!.key },
      { bucket: out.bucket, key: `${out.key}${partName(t.index)}${ext}` },
    );
  });
  await controlBarrier('finishing');
  await s.blobs.putBytes(out.bucket, `${out.key}_SUCCESS`, '');
  const won = await s.jobs.succeed(job.jobId, iso(s.now()));
  if (won) {
    s.log.info(LOG_EVENTS.jobSucceeded, { jobId: job.jobId, parts: tasks.length });
    s.metrics.jobFinished('SUCCEEDED', s.now() - Date.parse(job.createdAt));
    // Once, by the winner of SUCCEEDED (a worker or the checker), after _SUCCESS.
    if (!settingsOf(job.manifest).preserveTaskFiles) await deleteSucceededJobTmp(s, job.jobId);
  }
  return won;
}
