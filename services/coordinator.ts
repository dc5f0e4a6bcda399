/**
 * The coordinator: turns a submissions-queue message into a job. An upload (a
 * manifest, or a `_READY` marker of a batch) is validated, its input listed and
 * split, and its plan written in bounded steps (plan-writer.ts): at most
 * PLAN_SECONDS_PER_INVOCATION of it per message, the rest continued through a
 * message queued behind the submissions already waiting. A repeated event
 * never creates a second job; a coordinator that crashed half-way is resumed by the
 * redelivered message. Every submission ends visibly: a job, or a FAILED record
 * with a reason (refusals.ts), never a silent drop.
 */
import { DoNotRetryError, isErrorNamed, isTransient, ManifestError, UsageError } from '../core/errors.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { batchJobId, classifyTriggerKey, incomingBatchPrefix, manifestKey, pipelineConfigKey } from '../core/layout.js';
import { type Manifest, isMapOnly, parseManifest, validateManifest } from '../core/manifest.js';
import { DEFAULT_SPLIT_SIZE, MANIFEST_LIMITS, parseManifestJson } from '../core/manifest-limits.js';
import { type InputSplit, isAccepted, type JobRecord } from '../core/model.js';
import { missingFromBatch, parseReadyMarker, READY_LIMITS } from '../core/ready-marker.js';
import { settingsOf } from '../core/job-settings.js';
import { stepView, type StepView } from '../core/steps.js';
import { computeSplits } from '../core/splits.js';
import { type Services, iso } from './context.js';
import { endJob } from './job-end.js';
import { type PlanResume, planTasks, writePlan } from './plan-writer.js';
import { MAX_TASKS_WITH_JOB } from '../aws/job-store.js';
import { readManifestText, refuseKey, refuseReupload, reject, sameManifest } from './refusals.js';
import { checkSubmission } from './submission.js';
import { sampleSplitPoints, storeSplitPoints } from './total-order-sampler.js';
import { parseSubmissionMessages, type SubmissionOutcome } from './trigger-messages.js';

export type { SubmissionOutcome } from './trigger-messages.js';

/** Planning a job takes at most this long per message, so that one big plan never holds up other submissions. */
export const PLAN_SECONDS_PER_INVOCATION = 5;
/** Task records written, or messages sent, per planning step here: a step is the unit the budget cannot cut. */
export const PLAN_STEP = 100;

/**
 * Handle one submissions-queue message body. Errors that a retry may cure (S3 or
 * DynamoDB unavailable) are thrown for the queue to redeliver; any other error met
 * while a job exists fails that job with a reason.
 */
export async function handleSubmission(s: Services, body: string): Promise<SubmissionOutcome[]> {
  const results: SubmissionOutcome[] = [];
  for (const m of parseSubmissionMessages(body)) {
    if (m.kind === 'upload') results.push(await handleUpload(s, m.bucket, m.key));
    else if (m.kind === 'plan') results.push(await continuePlan(s, m.jobId));
    else results.push(await checkBatch(s, m.pipeline, m.batch, m.deadline));
  }
  return results;
}

/** Handle one S3 object-created notification (key already URL-decoded). */
export async function handleUpload(s: Services, bucket: string, key: string): Promise<SubmissionOutcome> {
  if (bucket !== s.names.bucket) return { outcome: 'ignored', why: `bucket ${bucket} is not the job bucket` };
  const trigger = classifyTriggerKey(key);
  if (trigger.kind === 'ignored') return { outcome: 'ignored', why: trigger.why };
  if (trigger.kind === 'refused') return refuseKey(s, key, trigger.why);
  if (trigger.kind === 'manifest') return handleManifest(s, trigger.jobId);
  return checkBatch(s, trigger.pipeline, trigger.batch);
}

async function handleManifest(s: Services, jobId: string): Promise<SubmissionOutcome> {
  // Both reads at once: one round trip less between the upload and the first map task.
  const [existing, read] = await Promise.all([s.jobs.get(jobId), readManifestText(s, manifestKey(jobId))]);
  if (read.kind === 'missing') return { outcome: 'ignored', why: `${manifestKey(jobId)} no longer exists` };
  if (existing) {
    // The record keeps the manifest that ran; an upload that differs is refused, never run or kept.
    if (existing.manifest && read.kind === 'text' && sameManifest(read.text, existing.manifest)) {
      return existing.status === 'CREATING' ? resume(s, existing) : { outcome: 'duplicate', jobId };
    }
    return refuseReupload(s, existing, read);
  }
  return submitJob(s, jobId, existing, () => {
    if (read.kind === 'oversize') {
      throw new ManifestError([`the manifest is ${read.size} bytes; the limit is ${MANIFEST_LIMITS.maxManifestBytes}`]);
    }
    return parseManifest(read.text);
  });
}

/** A `_READY` batch: run it once every object it announces has landed; past its deadline, fail it. */
async function checkBatch(s: Services, pipeline: string, batch: string, deadline?: number): Promise<SubmissionOutcome> {
  const jobId = batchJobId(pipeline, batch);
  const prefix = incomingBatchPrefix(pipeline, batch);
  const existing = await s.jobs.get(jobId);
  if (existing && existing.status !== 'CREATING') return { outcome: 'duplicate', jobId };
  if (!existing) {
    let missing: string[] = [];
    try {
      const spec = parseReadyMarker((await s.blobs.getTextIfExists(s.names.bucket, `${prefix}_READY`)) ?? '');
      if (spec) {
        const landed = (await s.blobs.list(s.names.bucket, prefix))
          .map((o) => o.key.slice(prefix.length))
          .filter((k) => k !== '' && !k.endsWith('/') && !/(^|\/)(_READY|_SUCCESS)$/.test(k));
        missing = missingFromBatch(spec, landed);
        deadline ??= s.now() + spec.timeoutSeconds * 1000;
      }
    } catch (err) {
      if (!(err instanceof UsageError)) throw err;
      return reject(s, jobId, `${err.message}\nFix the marker and upload the batch again under a new batch name.`);
    }
    if (missing.length > 0) {
      if (deadline !== undefined && s.now() >= deadline) {
        const shown = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, … (${missing.length} in all)` : '');
        return reject(
          s,
          jobId,
          `Batch s3://${s.names.bucket}/${prefix} did not complete before its _READY timeout: missing ${shown}. ` +
            'Upload the missing objects, then the batch again under a new batch name (or raise "timeoutSeconds").',
        );
      }
      await s.submissionQueue.sendAll([JSON.stringify({ kind: 'ready', pipeline, batch, deadline })], READY_LIMITS.recheckSeconds);
      s.log.info(LOG_EVENTS.batchWaiting, { jobId, missing: missing.length });
      return { outcome: 'waiting', jobId, missing: missing.length };
    }
  }
  const configText = await s.blobs.getTextIfExists(s.names.bucket, pipelineConfigKey(pipeline));
  return submitJob(s, jobId, existing, () => {
    if (configText === undefined) {
      throw new ManifestError([
        `no pipeline config at s3://${s.names.bucket}/${pipelineConfigKey(pipeline)}: upload one (a manifest without "input") first`,
      ]);
    }
    return batchManifest(configText, s.names.bucket, pipeline, batch);
  });
}

/** The manifest of a `_READY` batch: the pipeline's config, with the batch as input and a per-batch output. */
/** Hadoop's key for reading subdirectories of an input directory. */
const BATCH_RECURSIVE_KEY = 'mapreduce.input.fileinputformat.input.dir.recursive';

export function batchManifest(configText: string, bucket: string, pipeline: string, batch: string): Manifest {
  let config: Record<string, unknown>;
  try {
    config = parseManifestJson(configText);
  } catch (err) {
    const issues = err instanceof ManifestError ? err.issues : [String(err)];
    throw new ManifestError(issues.map((i) => `pipeline config ${pipelineConfigKey(pipeline)}: ${i}`), { cause: err });
  }
  const output = typeof config.output === 'string' ? config.output : '';
  // A batch is every object under its folder (what `_READY`'s count counts), so its
  // subfolders are read unless the pipeline config says otherwise.
  const jobconf = config.jobconf === undefined || (typeof config.jobconf === 'object' && config.jobconf !== null && !Array.isArray(config.jobconf))
    ? { [BATCH_RECURSIVE_KEY]: 'true', ...(config.jobconf as Record<string, unknown> | undefined) }
    : config.jobconf;
  return validateManifest({
    ...config,
    jobconf,
    input: `s3://${bucket}/${incomingBatchPrefix(pipeline, batch)}`,
    output: output === '' ? output : `${output.endsWith('/') ? output : `${output}/`}${batch}/`,
  });
}

/**
 * Create a job. Invalid manifests, refused locations and plans over the limits
 * become a FAILED job record whose reason the CLI shows; nothing is written under the output.
 * `existing` is the job record as the caller just read it (a job created since then makes
 * the conditional create fail: a duplicate).
 */
export async function submitJob(s: Services, jobId: string, existing: JobRecord | undefined, load: () => Manifest): Promise<SubmissionOutcome> {
  if (existing) return existing.status === 'CREATING' ? resume(s, existing) : { outcome: 'duplicate', jobId };
  let manifest: Manifest;
  let inputs: Awaited<ReturnType<typeof checkSubmission>>;
  let splits: InputSplit[];
  let points: string[] | undefined;
  let first: StepView;
  try {
    manifest = load();
    inputs = await checkSubmission(s.blobs, s.names.bucket, jobId, manifest, { localFiles: s.localFiles });
    splits = planSplits(manifest, inputs);
    first = stepView(manifest, 0);
    const totalOrder = settingsOf(first).totalOrder;
    // Sampled once, before the record exists (a resumed plan keeps the points); one reducer needs none.
    if (totalOrder && !isMapOnly(first) && first.numReducers > 1) points = await sampleSplitPoints(s, splits, first.numReducers, totalOrder);
  } catch (err) {
    // User mistakes and bugs met on this input fail the job with a reason; an outage (S3 down) is retried.
    if (isTransient(err)) throw err;
    // A job id is used once (a repeated upload is refused), so say how to try again.
    const hint = err instanceof ManifestError ? '\nFix the manifest and upload it under a new job id.' : '';
    const reason = err instanceof UsageError ? err.message : `internal error while planning (${(err as Error).name}: ${(err as Error).message})`;
    return reject(s, jobId, `${reason}${hint}`);
  }
  const now = iso(s.now());
  const job: JobRecord = {
    jobId,
    status: 'CREATING',
    phase: 'MAP',
    manifest,
    numMaps: splits.length,
    numReduces: isMapOnly(first) ? 0 : first.numReducers,
    mapsCommitted: 0,
    reducesCommitted: 0,
    inputBytes: inputs.reduce((n, o) => n + o.size, 0),
    ...(points ? await storeSplitPoints(s, jobId, points) : {}),
    counters: {},
    createdAt: now,
    updatedAt: now,
  };
  let written: PlanResume | undefined;
  try {
    written = await createJob(s, job, splits);
  } catch (err) {
    if (isErrorNamed(err, 'StaleStateError')) return { outcome: 'duplicate', jobId };
    throw err;
  }
  s.log.info(LOG_EVENTS.jobCreated, { jobId, numMaps: splits.length, numReduces: job.numReduces, inputBytes: job.inputBytes });
  return planFrom(s, job, splits, written);
}

/**
 * Write the job record; a plan that fits one transaction goes with it (two round trips
 * less before the first map task is sent) and is returned as written. Task records left
 * without a job (an expired record's id reused) make that transaction fail: then, as for
 * a bigger plan, the record alone, and the plan in steps (plan-writer.ts).
 */
async function createJob(s: Services, job: JobRecord, splits: InputSplit[]): Promise<PlanResume | undefined> {
  const tasks = planTasks({ jobId: job.jobId, splits, numReduces: job.numReduces }, 0, splits.length + job.numReduces);
  if (tasks.length <= MAX_TASKS_WITH_JOB) {
    try {
      await s.jobs.createWithTasks(job, tasks);
      return { tasksWritten: true };
    } catch (err) {
      if (!isErrorNamed(err, 'StaleStateError')) throw err;
    }
  }
  await s.jobs.create(job);
  return undefined;
}

function planSplits(m: Manifest, inputs: Parameters<typeof computeSplits>[0]): InputSplit[] {
  return computeSplits(inputs, {
    splitSize: m.splitSize ?? (m.numMappers ? undefined : DEFAULT_SPLIT_SIZE),
    numMappers: m.numMappers,
    maxSplits: MANIFEST_LIMITS.maxMapTasks,
  });
}

/** A CREATING job met again (a redelivered upload): finish its plan with the manifest that is on its record. */
function resume(s: Services, job: JobRecord): Promise<SubmissionOutcome> {
  return continuePlan(s, job.jobId);
}

/**
 * Continue a CREATING job's plan where its record says the last step stopped. The
 * splits come again from the record's manifest (the one that ran); an input that
 * changed meanwhile fails the job with a reason rather than planning different splits.
 * A job cancelled meanwhile is left alone.
 */
async function continuePlan(s: Services, jobId: string): Promise<SubmissionOutcome> {
  const job = await s.jobs.get(jobId);
  if (!job || job.status !== 'CREATING' || !isAccepted(job)) {
    return { outcome: 'ignored', why: `job ${jobId} is ${job?.status ?? 'gone'}` };
  }
  let splits: InputSplit[];
  try {
    const inputs = await checkSubmission(s.blobs, s.names.bucket, jobId, job.manifest, { resuming: true, localFiles: s.localFiles });
    splits = planSplits(job.manifest, inputs);
    if (splits.length !== job.numMaps) {
      throw new DoNotRetryError(
        `the input of job ${jobId} changed while the job was being planned (${job.numMaps} map tasks planned, ${splits.length} now); ` +
          'submit it again under a new job id once the input is complete',
      );
    }
  } catch (err) {
    return failPlanning(s, jobId, err);
  }
  return planFrom(s, job, splits, job as PlanResume);
}

/** Write the plan for at most PLAN_SECONDS_PER_INVOCATION; queue the rest behind the waiting submissions. */
async function planFrom(s: Services, job: JobRecord, splits: InputSplit[], resume: PlanResume | undefined): Promise<SubmissionOutcome> {
  const { jobId } = job;
  try {
    if (!(await writePlan(s, { jobId, splits, numReduces: job.numReduces }, resume, PLAN_SECONDS_PER_INVOCATION * 1000, PLAN_STEP))) {
      return { outcome: 'ignored', why: `job ${jobId} stopped being CREATING while it was planned` };
    }
  } catch (err) {
    if (isErrorNamed(err, 'PlanIncompleteError')) {
      await s.submissionQueue.sendAll([JSON.stringify({ kind: 'plan', jobId })]);
      return { outcome: 'planning', jobId };
    }
    return failPlanning(s, jobId, err);
  }
  await s.jobs.markRunning(jobId, iso(s.now()));
  return { outcome: 'created', jobId, numMaps: splits.length };
}

/** A transient error goes back to the queue; any other ends the CREATING job with its reason. */
async function failPlanning(s: Services, jobId: string, err: unknown): Promise<SubmissionOutcome> {
  if (isTransient(err)) throw err;
  const reason = err instanceof UsageError || err instanceof DoNotRetryError ? err.message : `internal error while planning (${String(err)})`;
  await endJob(s, jobId, 'FAILED', reason, iso(s.now()));
  s.log.warn(LOG_EVENTS.jobRejected, { jobId, reason });
  return { outcome: 'rejected', jobId, reason };
}
