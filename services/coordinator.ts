/**
 * The coordinator: turns an upload (a manifest, or a `_READY` marker of a batch)
 * into a job: validate, list input, compute splits, write job and task records,
 * send the map tasks. A repeated event never creates a second job; a coordinator
 * that crashed half-way is resumed by the redelivered event.
 */
import { isErrorNamed, ManifestError, UsageError } from '../core/errors.js';
import {
  batchJobId,
  decodeEventKey,
  classifyTriggerKey,
  incomingBatchPrefix,
  manifestKey,
  pipelineConfigKey,
} from '../core/layout.js';
import { type Manifest, DEFAULT_SPLIT_SIZE, parseManifest, validateManifest } from '../core/manifest.js';
import type { JobRecord } from '../core/model.js';
import { computeSplits } from '../core/splits.js';
import type { ObjectInfo } from '../aws/blob-store.js';
import { type Services, iso } from './context.js';
import { type PlanResume, writePlan } from './plan-writer.js';
import { checkSubmission } from './submission.js';

export type SubmissionOutcome =
  | { outcome: 'created'; jobId: string; numMaps: number }
  | { outcome: 'rejected'; jobId: string; reason: string }
  | { outcome: 'duplicate'; jobId: string }
  | { outcome: 'ignored'; why: string };

/** Handle one S3 object-created notification (key already URL-decoded). */
export async function handleUpload(s: Services, bucket: string, key: string): Promise<SubmissionOutcome> {
  const trigger = classifyTriggerKey(key);
  if (trigger.kind === 'ignored') return { outcome: 'ignored', why: trigger.why };
  if (bucket !== s.names.bucket) return { outcome: 'ignored', why: `bucket ${bucket} is not the job bucket` };
  if (trigger.kind === 'manifest') {
    const text = await s.blobs.getTextIfExists(bucket, manifestKey(trigger.jobId));
    if (text === undefined) return { outcome: 'ignored', why: `${key} no longer exists` };
    return submitJob(s, trigger.jobId, () => parseManifest(text));
  }
  const { pipeline, batch } = trigger;
  const jobId = batchJobId(pipeline, batch);
  const configText = await s.blobs.getTextIfExists(bucket, pipelineConfigKey(pipeline));
  return submitJob(s, jobId, () => {
    if (configText === undefined) {
      throw new ManifestError([
        `no pipeline config at s3://${bucket}/${pipelineConfigKey(pipeline)}: upload one (a manifest without "input") first`,
      ]);
    }
    return batchManifest(configText, bucket, pipeline, batch);
  });
}

/** The manifest of a `_READY` batch: the pipeline's config, with the batch as input and a per-batch output. */
export function batchManifest(configText: string, bucket: string, pipeline: string, batch: string): Manifest {
  let config: Record<string, unknown>;
  try {
    config = JSON.parse(configText) as Record<string, unknown>;
  } catch (err) {
    throw new ManifestError([`pipeline config ${pipelineConfigKey(pipeline)} is not valid JSON`], { cause: err });
  }
  const output = typeof config.output === 'string' ? config.output : '';
  return validateManifest({
    ...config,
    input: `s3://${bucket}/${incomingBatchPrefix(pipeline, batch)}`,
    output: output === '' ? output : `${output.endsWith('/') ? output : `${output}/`}${batch}/`,
  });
}

/**
 * Create (or resume creating) a job. Invalid manifests and bad inputs become a
 * FAILED job record whose reason the CLI shows; nothing is written under the output.
 */
export async function submitJob(s: Services, jobId: string, load: () => Manifest): Promise<SubmissionOutcome> {
  const existing = await s.jobs.get(jobId);
  if (existing && existing.status !== 'CREATING') return { outcome: 'duplicate', jobId };
  const now = iso(s.now());
  let manifest: Manifest;
  let inputs: ObjectInfo[];
  try {
    manifest = load();
    inputs = await checkSubmission(s.blobs, s.names.bucket, jobId, manifest, { resuming: existing !== undefined });
  } catch (err) {
    // User mistakes fail the job with a reason; anything else (S3 down) is retried by SQS.
    if (!(err instanceof UsageError)) throw err;
    // A job id is used once (a repeated upload is a duplicate), so say how to try again.
    const hint = err instanceof ManifestError ? '\nFix the manifest and upload it under a new job id.' : '';
    return reject(s, jobId, `${err.message}${hint}`, now);
  }
  const splits = computeSplits(inputs, { splitSize: manifest.splitSize ?? (manifest.numMappers ? undefined : DEFAULT_SPLIT_SIZE), numMappers: manifest.numMappers });
  const numReduces = manifest.reducer ? manifest.numReducers : 0;
  const job: JobRecord = {
    jobId,
    status: 'CREATING',
    phase: 'MAP',
    manifest,
    numMaps: splits.length,
    numReduces,
    mapsCommitted: 0,
    reducesCommitted: 0,
    inputBytes: inputs.reduce((n, o) => n + o.size, 0),
    counters: {},
    createdAt: now,
    updatedAt: now,
  };
  if (existing === undefined) {
    try {
      await s.jobs.create(job);
    } catch (err) {
      if (isErrorNamed(err, 'StaleStateError')) return { outcome: 'duplicate', jobId };
      throw err;
    }
  }
  // Task records and map messages in bounded steps; a retried coordinator resumes (plan-writer.ts).
  await writePlan(s, { jobId, splits, numReduces }, existing as PlanResume | undefined);
  await s.jobs.markRunning(jobId, iso(s.now()));
  s.log.info('Job created', { jobId, numMaps: splits.length, numReduces, inputBytes: job.inputBytes });
  return { outcome: 'created', jobId, numMaps: splits.length };
}

async function reject(s: Services, jobId: string, reason: string, now: string): Promise<SubmissionOutcome> {
  s.log.warn('Job rejected', { jobId, reason });
  const failed = {
    jobId,
    status: 'FAILED',
    phase: 'MAP',
    numMaps: 0,
    numReduces: 0,
    mapsCommitted: 0,
    reducesCommitted: 0,
    inputBytes: 0,
    counters: {},
    createdAt: now,
    updatedAt: now,
    finishedAt: now,
    reason,
  } as unknown as JobRecord;
  try {
    await s.jobs.create(failed);
  } catch (err) {
    if (!isErrorNamed(err, 'StaleStateError')) throw err;
    await s.jobs.end(jobId, 'FAILED', reason, now);
  }
  return { outcome: 'rejected', jobId, reason };
}

/** The (bucket, key) pairs of an S3 notification body; test events and others yield none. */
export function uploadsOf(body: string): { bucket: string; key: string }[] {
  let parsed: { Records?: { eventSource?: string; s3?: { bucket?: { name?: string }; object?: { key?: string } } }[] };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    throw new Error('Submission message is not JSON');
  }
  return (parsed.Records ?? [])
    .filter((r) => r.eventSource === 'aws:s3' && r.s3?.bucket?.name && r.s3.object?.key)
    .map((r) => ({ bucket: r.s3!.bucket!.name!, key: decodeEventKey(r.s3!.object!.key!) }));
}
