/**
 * The coordinator: turns a submissions-queue message into a job. An upload (a
 * manifest, or a `_READY` marker of a batch) is validated, its input listed and
 * split, and its plan written in bounded chunks (planning.ts). A repeated event
 * never creates a second job; a coordinator that crashed half-way is resumed by the
 * redelivered message. Every submission ends visibly: a job, or a FAILED record
 * with a reason (refusals.ts), never a silent drop.
 */
import { isErrorNamed, isTransient, ManifestError, UsageError } from '../core/errors.js';
import { batchJobId, classifyTriggerKey, incomingBatchPrefix, manifestKey, pipelineConfigKey } from '../core/layout.js';
import { type Manifest, DEFAULT_SPLIT_SIZE, MANIFEST_LIMITS, parseManifest, parseManifestJson, validateManifest } from '../core/manifest.js';
import { type InputSplit, isAccepted, type JobRecord } from '../core/model.js';
import { missingFromBatch, parseReadyMarker, READY_LIMITS } from '../core/ready-marker.js';
import { computeSplits } from '../core/splits.js';
import { type Services, iso } from './context.js';
import { loadPlan, PLAN_BATCH, storePlanIfBig, writePlanChunk } from './planning.js';
import { readManifestText, refuseKey, refuseReupload, reject, sameManifest } from './refusals.js';
import { checkSubmission } from './submission.js';
import { parseSubmissionMessages, type SubmissionOutcome } from './trigger-messages.js';

export type { SubmissionOutcome } from './trigger-messages.js';

/**
 * Handle one submissions-queue message body. Errors that a retry may cure (S3 or
 * DynamoDB unavailable) are thrown for the queue to redeliver; any other error met
 * while a job exists fails that job with a reason.
 */
export async function handleSubmission(s: Services, body: string): Promise<SubmissionOutcome[]> {
  const results: SubmissionOutcome[] = [];
  for (const m of parseSubmissionMessages(body)) {
    if (m.kind === 'upload') results.push(await handleUpload(s, m.bucket, m.key));
    else if (m.kind === 'plan') results.push(await continuePlan(s, m.jobId, m.from));
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
  const existing = await s.jobs.get(jobId);
  const read = await readManifestText(s, manifestKey(jobId));
  if (read.kind === 'missing') return { outcome: 'ignored', why: `${manifestKey(jobId)} no longer exists` };
  if (existing) {
    // The record keeps the manifest that ran; an upload that differs is refused, never run or kept.
    if (existing.manifest && read.kind === 'text' && sameManifest(read.text, existing.manifest)) {
      return existing.status === 'CREATING' ? resume(s, existing) : { outcome: 'duplicate', jobId };
    }
    return refuseReupload(s, existing, read);
  }
  return submitJob(s, jobId, () => {
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
      s.log.info('Batch waiting for objects', { jobId, missing: missing.length });
      return { outcome: 'waiting', jobId, missing: missing.length };
    }
  }
  const configText = await s.blobs.getTextIfExists(s.names.bucket, pipelineConfigKey(pipeline));
  return submitJob(s, jobId, () => {
    if (configText === undefined) {
      throw new ManifestError([
        `no pipeline config at s3://${s.names.bucket}/${pipelineConfigKey(pipeline)}: upload one (a manifest without "input") first`,
      ]);
    }
    return batchManifest(configText, s.names.bucket, pipeline, batch);
  });
}

/** The manifest of a `_READY` batch: the pipeline's config, with the batch as input and a per-batch output. */
export function batchManifest(configText: string, bucket: string, pipeline: string, batch: string): Manifest {
  let config: Record<string, unknown>;
  try {
    config = parseManifestJson(configText);
  } catch (err) {
    const issues = err instanceof ManifestError ? err.issues : [String(err)];
    throw new ManifestError(issues.map((i) => `pipeline config ${pipelineConfigKey(pipeline)}: ${i}`), { cause: err });
  }
  const output = typeof config.output === 'string' ? config.output : '';
  return validateManifest({
    ...config,
    input: `s3://${bucket}/${incomingBatchPrefix(pipeline, batch)}`,
    output: output === '' ? output : `${output.endsWith('/') ? output : `${output}/`}${batch}/`,
  });
}

/**
 * Create a job. Invalid manifests, refused locations and plans over the limits
 * become a FAILED job record whose reason the CLI shows; nothing is written under the output.
 */
export async function submitJob(s: Services, jobId: string, load: () => Manifest): Promise<SubmissionOutcome> {
  const existing = await s.jobs.get(jobId);
  if (existing) return existing.status === 'CREATING' ? resume(s, existing) : { outcome: 'duplicate', jobId };
  let manifest: Manifest;
  let inputs: Awaited<ReturnType<typeof checkSubmission>>;
  let splits: InputSplit[];
  try {
    manifest = load();
    inputs = await checkSubmission(s.blobs, s.names.bucket, jobId, manifest);
    splits = planSplits(manifest, inputs);
  } catch (err) {
    // User mistakes and bugs met on this input fail the job with a reason; an outage (S3 down) is retried.
    if (isTransient(err)) throw err;
    // A job id is used once (a repeated upload is refused), so say how to try again.
    const hint = err instanceof ManifestError ? '\nFix the manifest and upload it under a new job id.' : '';
    const reason = err instanceof UsageError ? err.message : `internal error while planning (${(err as Error).name}: ${(err as Error).message})`;
    return reject(s, jobId, `${reason}${hint}`);
  }
  await storePlanIfBig(s, jobId, splits);
  const now = iso(s.now());
  const job: JobRecord = {
    jobId,
    status: 'CREATING',
    phase: 'MAP',
    manifest,
    numMaps: splits.length,
    numReduces: manifest.reducer ? manifest.numReducers : 0,
    mapsCommitted: 0,
    reducesCommitted: 0,
    inputBytes: inputs.reduce((n, o) => n + o.size, 0),
    counters: {},
    createdAt: now,
    updatedAt: now,
  };
  try {
    await s.jobs.create(job);
  } catch (err) {
    if (isErrorNamed(err, 'StaleStateError')) return { outcome: 'duplicate', jobId };
    throw err;
  }
  s.log.info('Job created', { jobId, numMaps: splits.length, numReduces: job.numReduces, inputBytes: job.inputBytes });
  return planFrom(s, job, splits, 0);
}

function planSplits(m: Manifest, inputs: Parameters<typeof computeSplits>[0]): InputSplit[] {
  return computeSplits(inputs, {
    splitSize: m.splitSize ?? (m.numMappers ? undefined : DEFAULT_SPLIT_SIZE),
    numMappers: m.numMappers,
    maxSplits: MANIFEST_LIMITS.maxMapTasks,
  });
}

/** A CREATING job met again (a redelivered upload): finish its plan with the manifest that is on its record. */
async function resume(s: Services, job: JobRecord): Promise<SubmissionOutcome> {
  if (job.tasksWritten === true) {
    await s.jobs.markRunning(job.jobId, iso(s.now()));
    return { outcome: 'duplicate', jobId: job.jobId };
  }
  return continuePlan(s, job.jobId, 0);
}

/** Write the next chunk of a job's plan; a job cancelled meanwhile is left alone. */
async function continuePlan(s: Services, jobId: string, from: number): Promise<SubmissionOutcome> {
  const job = await s.jobs.get(jobId);
  if (!job || job.status !== 'CREATING') return { outcome: 'ignored', why: `job ${jobId} is ${job?.status ?? 'gone'}` };
  let splits: InputSplit[];
  try {
    splits = from === 0 && job.numMaps <= PLAN_BATCH ? await replan(s, job) : await loadPlan(s, job);
  } catch (err) {
    if (isTransient(err)) throw err;
    await s.jobs.end(jobId, 'FAILED', (err as Error).message, iso(s.now()));
    return { outcome: 'rejected', jobId, reason: (err as Error).message };
  }
  return planFrom(s, job, splits, from);
}

/** A small plan is not stored: list and split again, from the record's manifest, and check it still matches. */
async function replan(s: Services, job: JobRecord): Promise<InputSplit[]> {
  if (!isAccepted(job)) return loadPlan(s, job);
  const inputs = await checkSubmission(s.blobs, s.names.bucket, job.jobId, job.manifest, { resuming: true });
  const splits = planSplits(job.manifest, inputs);
  if (splits.length !== job.numMaps) return loadPlan(s, job);
  return splits;
}

async function planFrom(s: Services, job: JobRecord, splits: readonly InputSplit[], from: number): Promise<SubmissionOutcome> {
  const written = await writePlanChunk(s, job, splits, from);
  if (written < splits.length) return { outcome: 'planning', jobId: job.jobId, written };
  return { outcome: 'created', jobId: job.jobId, numMaps: splits.length };
}
