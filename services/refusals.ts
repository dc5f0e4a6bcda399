/**
 * Visible refusals. A submission the coordinator will not run ends as a FAILED
 * job record with a reason, which `mapreduce jobs` and `status` show:
 *
 *   - under its own id, when the id is fine (bad manifest, refused output, limits);
 *   - under a derived id `rejected-<hash>` when it has none we can use (a job id with
 *     a space, a non-ASCII pipeline name, a manifest re-uploaded for an existing job).
 *     The hash is of the key (and the refused text), so a redelivered event makes
 *     no second record.
 */
import { createHash } from 'node:crypto';
import { LOG_EVENTS } from '../core/log-events.js';
import { isErrorNamed } from '../core/errors.js';
import { manifestKey } from '../core/layout.js';
import { type Manifest, parseManifest } from '../core/manifest.js';
import { MANIFEST_LIMITS } from '../core/manifest-limits.js';
import type { JobRecord } from '../core/model.js';
import { type Services, iso } from './context.js';
import type { SubmissionOutcome } from './trigger-messages.js';

/** Longest reason stored on a record (the item must stay far below DynamoDB's 400 KB). */
export const MAX_REASON_CHARS = 4000;

/** Fail `jobId` with `reason`: a new FAILED record, or the end of a CREATING one. */
export async function reject(s: Services, jobId: string, reason: string): Promise<SubmissionOutcome> {
  const text = reason.length > MAX_REASON_CHARS ? `${reason.slice(0, MAX_REASON_CHARS)}… (cut)` : reason;
  const now = iso(s.now());
  s.log.warn(LOG_EVENTS.jobRejected, { jobId, reason: text });
  const failed: JobRecord = {
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
    reason: text,
  };
  try {
    await s.jobs.create(failed);
  } catch (err) {
    if (!isErrorNamed(err, 'StaleStateError')) throw err;
    await s.jobs.end(jobId, 'FAILED', text, now);
  }
  return { outcome: 'rejected', jobId, reason: text };
}

/** A safe job id for a refusal that has none: stable for the same key (and text). */
export function rejectedJobId(...parts: string[]): string {
  return `rejected-${createHash('sha256').update(parts.join('\n')).digest('hex').slice(0, 16)}`;
}

const quoteKey = (key: string) => JSON.stringify(key.length > 300 ? `${key.slice(0, 300)}…` : key);

/** An upload whose job id or pipeline/batch name we cannot accept. */
export function refuseKey(s: Services, key: string, why: string): Promise<SubmissionOutcome> {
  return reject(s, rejectedJobId(key), `Upload s3://${s.names.bucket}/${quoteKey(key)} refused: ${why}. Upload it again under a valid name.`);
}

export type ManifestRead = { kind: 'text'; text: string } | { kind: 'oversize'; size: number } | { kind: 'missing' };

/** Read a manifest, refusing to download one over the size limit. */
export async function readManifestText(s: Services, key: string): Promise<ManifestRead> {
  const read = await s.blobs.getTextWithin(s.names.bucket, key, MANIFEST_LIMITS.maxManifestBytes);
  if (!read) return { kind: 'missing' };
  return 'size' in read ? { kind: 'oversize', size: read.size } : { kind: 'text', text: read.text };
}

/** Key-order-independent JSON, to compare manifests. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/** True when `text` is a valid manifest equal (defaults applied) to `ran`. */
export function sameManifest(text: string, ran: Manifest): boolean {
  try {
    return canonical(parseManifest(text)) === canonical(ran);
  } catch {
    return false;
  }
}

/**
 * `jobs/<id>/job.json` uploaded again, different, for a job that exists: the job
 * keeps the manifest that ran (its record's); the object is put back to it, and the
 * upload is refused on a record of its own, naming the job.
 */
export async function refuseReupload(s: Services, job: JobRecord, read: ManifestRead): Promise<SubmissionOutcome> {
  const key = manifestKey(job.jobId);
  const fingerprint = read.kind === 'text' ? read.text : `${read.kind}:${read.kind === 'oversize' ? read.size : ''}`;
  if (job.manifest) {
    // Writing it back raises one more event, which then finds the same manifest: a duplicate.
    await s.blobs.putBytes(s.names.bucket, key, JSON.stringify(job.manifest, null, 2), 'application/json');
  }
  return reject(
    s,
    rejectedJobId(key, fingerprint),
    `s3://${s.names.bucket}/${key} was uploaded again while job ${job.jobId} exists (${job.status}); the new manifest was refused` +
      `${job.manifest ? ' and the manifest that ran was put back' : ''}. A job id is used once: upload the manifest under a new job id.`,
  );
}
