/**
 * Where a job's objects live in the job bucket. Every key the framework writes
 * comes from here, and each is checked to stay under the job's own prefixes.
 *
 *   jobs/<jobId>/job.json                   manifest (upload it to start the job)
 *   jobs/<jobId>/files/<name>               shipped executables and modules
 *   jobs/<jobId>/input/...                  input uploaded by `mapreduce run`
 *   jobs/<jobId>/output/                    default output prefix of `mapreduce run`
 *   jobs/<jobId>/logs/<taskId>/attempt-N.stderr
 *   tmp/<jobId>/map/<taskId>/attempt-N      one intermediate object per map attempt
 *   tmp/<jobId>/out/<taskId>/attempt-N      a reduce attempt's part, before commit
 *   tmp/<jobId>/live-logs/<taskId>/attempt-N.stderr  a running attempt's stderr so far (core/live-log.ts)
 *   tmp/<jobId>/steps/<n>/part-NNNNN        the committed output of step n (1-based) of a multi-step job
 *   incoming/<pipeline>/<batch>/..._READY   batch uploads; pipelines/<pipeline>.json configs
 */

import { InvalidKeyError } from './errors.js';
import type { Manifest } from './manifest.js';
import { isValidJobId } from './model.js';
import { isLastStep } from './steps.js';
import { assertUnderPrefix } from './s3uri.js';

function checkJobId(jobId: string): string {
  if (!isValidJobId(jobId)) {
    throw new InvalidKeyError(
      `Invalid job id "${jobId}": use letters, digits, ".", "_" and "-" (at most 128, no "..").`,
      { context: { jobId } },
    );
  }
  return jobId;
}

export const jobPrefix = (jobId: string): string => `jobs/${checkJobId(jobId)}/`;
export const tmpPrefix = (jobId: string): string => `tmp/${checkJobId(jobId)}/`;
export const manifestKey = (jobId: string): string => `${jobPrefix(jobId)}job.json`;
const filesPrefix = (jobId: string): string => `${jobPrefix(jobId)}files/`;
export const inputPrefix = (jobId: string): string => `${jobPrefix(jobId)}input/`;
export const defaultOutputPrefix = (jobId: string): string => `${jobPrefix(jobId)}output/`;

export function fileKey(jobId: string, name: string): string {
  const key = `${filesPrefix(jobId)}${name}`;
  assertUnderPrefix(key, filesPrefix(jobId));
  return key;
}

export function logKey(jobId: string, taskId: string, attempt: number): string {
  return `${jobPrefix(jobId)}logs/${taskId}/attempt-${attempt}.stderr`;
}

/**
 * The stderr so far of a running attempt, rewritten while it runs (core/live-log.ts).
 * Under tmp/: left behind when the attempt ends (the bucket's tmp/ expiry removes it),
 * so workers need no delete permission and ending an attempt costs no call.
 */
export function liveLogKey(jobId: string, taskId: string, attempt: number): string {
  return `${tmpPrefix(jobId)}live-logs/${taskId}/attempt-${attempt}.stderr`;
}

export function logsPrefix(jobId: string, taskId?: string): string {
  return `${jobPrefix(jobId)}logs/${taskId ? `${taskId}/` : ''}`;
}

export function mapOutputKey(jobId: string, taskId: string, attempt: number): string {
  return `${tmpPrefix(jobId)}map/${taskId}/attempt-${attempt}`;
}

/** Where the committed output of an intermediate step (0-based `step`) goes: the next step's input. */
export function stepOutputPrefix(jobId: string, step: number): string {
  return `${tmpPrefix(jobId)}steps/${step + 1}/`;
}

/** The output URI of a step: the user's for the last step, else its prefix under tmp/. */
export function stepOutputUri(m: Pick<Manifest, 'steps' | 'output'>, jobId: string, step: number, bucket: string): string {
  return isLastStep(m, step) ? m.output : `s3://${bucket}/${stepOutputPrefix(jobId, step)}`;
}

export function reduceTempKey(jobId: string, taskId: string, attempt: number): string {
  return `${tmpPrefix(jobId)}out/${taskId}/attempt-${attempt}`;
}

/** What an S3 notification key means. Keys must already be URL-decoded. */
export type TriggerKey =
  | { kind: 'manifest'; jobId: string }
  | { kind: 'ready'; pipeline: string; batch: string }
  /** A trigger whose id or name we cannot accept: the submission is refused visibly. */
  | { kind: 'refused'; why: string }
  | { kind: 'ignored'; why: string };

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Pipeline and batch names: key-safe, at most 64 characters, no "..". */
export function isValidPipelineName(name: string): boolean {
  return NAME_RE.test(name) && !name.includes('..');
}

export function classifyTriggerKey(key: string): TriggerKey {
  let m = /^jobs\/([^/]+)\/job\.json$/.exec(key);
  if (m) {
    const jobId = m[1] as string;
    return isValidJobId(jobId)
      ? { kind: 'manifest', jobId }
      : { kind: 'refused', why: `the job id ${JSON.stringify(jobId)} cannot be accepted: use ASCII letters, digits, ".", "_" and "-" (at most 128, no "..")` };
  }
  m = /^incoming\/([^/]+)\/([^/]+)\/_READY$/.exec(key);
  if (m) {
    const pipeline = m[1] as string;
    const batch = m[2] as string;
    if (!isValidPipelineName(pipeline) || !isValidPipelineName(batch)) {
      return {
        kind: 'refused',
        why: `the pipeline or batch name in ${JSON.stringify(key)} cannot be accepted: use ASCII letters, digits, ".", "_" and "-" (at most 64 each, no "..")`,
      };
    }
    return { kind: 'ready', pipeline, batch };
  }
  return { kind: 'ignored', why: `"${key}" is neither jobs/<jobId>/job.json nor incoming/<pipeline>/<batch>/_READY` };
}

export const pipelineConfigKey = (pipeline: string): string => `pipelines/${pipeline}.json`;
export const incomingBatchPrefix = (pipeline: string, batch: string): string => `incoming/${pipeline}/${batch}/`;
/** The job id of a `_READY` batch is deterministic, so a repeated event never makes a second job. */
export const batchJobId = (pipeline: string, batch: string): string => `${pipeline}.${batch}`;

/** S3 event keys arrive URL-encoded, with `+` for spaces. */
export function decodeEventKey(raw: string): string {
  return decodeURIComponent(raw.replace(/\+/g, ' '));
}
