/**
 * What arrives on the submissions queue, parsed in one place: S3 notifications
 * (keys URL-decoded here, once: the emulator and AWS both encode them), and the
 * coordinator's own follow-ups (a plan continued, a `_READY` batch checked again).
 * A body that is none of these is poison: DoNotRetryError, never redelivered.
 */
import { DoNotRetryError } from '../core/errors.js';
import { decodeEventKey, isValidPipelineName } from '../core/layout.js';

/** A job's plan, continued where its record says the last step stopped. */
export interface PlanContinuation {
  readonly kind: 'plan';
  readonly jobId: string;
}

/** A `_READY` batch checked again until its objects have all landed, or `deadline` passed. */
export interface ReadyRecheck {
  readonly kind: 'ready';
  readonly pipeline: string;
  readonly batch: string;
  /** Epoch ms after which the batch's job fails. */
  readonly deadline: number;
}

export type SubmissionMessage = { readonly kind: 'upload'; readonly bucket: string; readonly key: string } | PlanContinuation | ReadyRecheck;

/** What came of one message. */
export type SubmissionOutcome =
  | { outcome: 'created'; jobId: string; numMaps: number }
  | { outcome: 'planning'; jobId: string }
  | { outcome: 'waiting'; jobId: string; missing: number }
  | { outcome: 'rejected'; jobId: string; reason: string }
  | { outcome: 'duplicate'; jobId: string }
  | { outcome: 'ignored'; why: string };

interface S3Record {
  eventSource?: string;
  s3?: { bucket?: { name?: string }; object?: { key?: string } };
}

/** Decode an event key; a malformed escape is kept as it came (it is then refused as a bad id). */
function decodedKey(raw: string): string {
  try {
    return decodeEventKey(raw);
  } catch {
    return raw;
  }
}

/** The messages in one submissions-queue body; S3 test events yield none. */
export function parseSubmissionMessages(body: string): SubmissionMessage[] {
  let parsed: { Records?: S3Record[]; kind?: unknown; jobId?: unknown; pipeline?: unknown; batch?: unknown; deadline?: unknown };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch (err) {
    throw new DoNotRetryError('Submission message is not JSON', { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object') throw new DoNotRetryError('Submission message is not a JSON object');
  if (parsed.kind === 'plan' && typeof parsed.jobId === 'string') return [{ kind: 'plan', jobId: parsed.jobId }];
  if (
    parsed.kind === 'ready' &&
    typeof parsed.pipeline === 'string' &&
    typeof parsed.batch === 'string' &&
    typeof parsed.deadline === 'number'
  ) {
    // Only the coordinator sends these, but the names go into a job id and S3 keys: the same checks as an upload's.
    if (!isValidPipelineName(parsed.pipeline) || !isValidPipelineName(parsed.batch)) {
      throw new DoNotRetryError(`Batch re-check names an invalid pipeline or batch (${JSON.stringify(parsed.pipeline)}, ${JSON.stringify(parsed.batch)})`);
    }
    return [{ kind: 'ready', pipeline: parsed.pipeline, batch: parsed.batch, deadline: parsed.deadline }];
  }
  return (Array.isArray(parsed.Records) ? parsed.Records : [])
    .filter((r) => r?.eventSource === 'aws:s3' && r.s3?.bucket?.name && r.s3.object?.key)
    .map((r) => ({ kind: 'upload' as const, bucket: r.s3!.bucket!.name!, key: decodedKey(r.s3!.object!.key!) }));
}
