/**
 * The submission checks, one home for every path that starts a job: the CLI's
 * pre-submit checks (`cli/job-client.ts`) and the coordinator (a manifest uploaded
 * straight to S3, or a `_READY` batch) call the same functions, so a job refused
 * by one is refused by the other, with the same reason.
 *
 *   - the job bucket's root and its `tmp/`, `jobs/`, `pipelines/`, `incoming/` areas
 *     are never an output (a job's own `jobs/<id>/output/` excepted: `mapreduce run`'s default);
 *   - the output never lies inside, or equals, the input (nor the input inside the output);
 *   - the input exists and holds bytes; the output holds no objects unless `overwrite`;
 *   - job ids and pipeline/batch names are key-safe;
 *   - `file://` inputs only on a local stack (`localFiles`), whose workers share this machine.
 */
import type { BlobStore, ObjectInfo } from '../aws/blob-store.js';
import { codecOf } from '../core/compression.js';
import { InvalidKeyError, SubmissionRefusedError, UsageError } from '../core/errors.js';
import { globBase, type InputRules, resolveInputs, splitInputList } from '../core/input-listing.js';
import { isFileUri } from '../core/input-uri.js';
import { settingsOf } from '../core/job-settings.js';
import { defaultOutputPrefix, isValidPipelineName } from '../core/layout.js';
import type { ManifestInput } from '../core/manifest.js';
import { isValidJobId } from '../core/model.js';
import { asPrefix, formatS3Uri, parseS3Uri } from '../core/s3uri.js';
import { inputSource, localInputRefusal } from './input-source.js';

/** Areas of the job bucket that belong to the framework; an output there would clobber its data. */
export const RESERVED_PREFIXES = ['tmp/', 'jobs/', 'pipelines/', 'incoming/'] as const;

/** Throws InvalidKeyError unless `jobId` is a valid job id (it becomes part of S3 keys and table keys). */
export function checkJobId(jobId: string): string {
  if (!isValidJobId(jobId)) {
    throw new InvalidKeyError(
      `Invalid job id ${JSON.stringify(jobId)}: use ASCII letters, digits, ".", "_" and "-" (at most 128, no "..").`,
      { context: { jobId } },
    );
  }
  return jobId;
}

/** Throws InvalidKeyError unless `name` is a valid pipeline or batch name. */
export function checkPipelineName(name: string, what: 'pipeline' | 'batch'): string {
  if (!isValidPipelineName(name)) {
    throw new InvalidKeyError(
      `Invalid ${what} name ${JSON.stringify(name)}: use ASCII letters, digits, ".", "_" and "-" (at most 64, no "..").`,
      { context: { [what]: name } },
    );
  }
  return name;
}

/** The location fields the checks read; a validated manifest and the CLI's draft both have them. */
export type Locations = Pick<ManifestInput, 'input' | 'output' | 'overwrite' | 'jobconf'>;

/** Every input URI (comma lists split, as Hadoop's -input). */
const inputsOf = (m: Pick<Locations, 'input'>): readonly string[] =>
  splitInputList(typeof m.input === 'string' ? [m.input] : m.input);

/**
 * Where the output may not go, as a reason, or undefined when it may. Pure: it
 * looks at the URIs only, so the coordinator refuses before it lists anything.
 */
export function outputLocationProblem(
  jobBucket: string,
  jobId: string,
  m: Locations,
): string | undefined {
  const out = asPrefix(parseS3Uri(m.output));
  if (
    out.bucket === jobBucket &&
    !out.key.startsWith(defaultOutputPrefix(jobId)) &&
    (out.key === '' || RESERVED_PREFIXES.some((r) => out.key.startsWith(r)))
  ) {
    return (
      `Output ${m.output} is inside the framework's own area of the job bucket (${RESERVED_PREFIXES.join(', ')} are reserved): ` +
      `choose another prefix, e.g. s3://${out.bucket}/output/<name>/.`
    );
  }
  for (const uri of inputsOf(m)) {
    if (isFileUri(uri)) continue; // a local file never overlaps an S3 output
    // Compared as folders: `in/a.txt` and `in/a.txt/` are the same place, `in/ab/` is not inside `in/a/`.
    // A glob is compared by the folder before its first wildcard.
    const input = asPrefix(parseS3Uri(globBase(uri)));
    if (input.bucket !== out.bucket) continue;
    if (out.key.startsWith(input.key)) {
      return `Output ${m.output} is ${out.key === input.key ? 'the same place as' : 'inside'} the input ${uri}: the job would read its own output. Choose an output outside the input.`;
    }
    if (input.key.startsWith(out.key)) {
      return `Input ${uri} is inside the output ${m.output}: writing the output would replace or mix with the input. Choose an output outside the input.`;
    }
  }
  return undefined;
}

/** S3 errors that mean "the user named something that is not there", as a refusal; anything else is rethrown. */
function refusalOf(err: unknown, uri: string): unknown {
  const name = (err as Error)?.name;
  if (name === 'NoSuchBucket') return new SubmissionRefusedError(`Bucket of ${uri} does not exist: check the bucket name.`, { cause: err });
  if (name === 'AccessDenied' || name === 'Forbidden' || (err as NodeJS.ErrnoException)?.code === 'EACCES') {
    return new SubmissionRefusedError(`Access denied to ${uri}: check the bucket name and the permissions.`, { cause: err });
  }
  return err;
}

/**
 * The data objects of the inputs by Hadoop's input rules (core/input-listing.ts):
 * objects, folders, globs and comma lists; hidden `_*`/`.*` names skipped;
 * subdirectories only when recursive. Refuses an input that matches nothing, and
 * a file whose compression we cannot read. `limit` bounds each listing (the CLI only
 * needs a sample). `file://` inputs are listed only when `localFiles` is set.
 */
export async function listInputs(
  blobs: BlobStore,
  uris: readonly string[],
  rules: InputRules,
  limit = Number.POSITIVE_INFINITY,
  localFiles = false,
): Promise<ObjectInfo[]> {
  const source = inputSource(blobs, { localFiles });
  try {
    const objects = await resolveInputs(uris, (bucket, prefix) => source.list(bucket, prefix, limit), rules);
    for (const o of objects) codecOf(o.key);
    return objects;
  } catch (err) {
    if (err instanceof UsageError && !(err instanceof SubmissionRefusedError)) {
      throw new SubmissionRefusedError(err.message, { cause: err, context: err.context });
    }
    throw refusalOf(err, uris.join(','));
  }
}

export interface SubmissionCheckOptions {
  /** A coordinator resuming a half-created job: its output may already hold its own files. */
  readonly resuming?: boolean;
  /** Inputs the caller uploaded itself and checked locally (the CLI's local inputs): not listed. */
  readonly skipInputs?: readonly string[];
  /** At most this many objects listed per input (the CLI checks a sample; the coordinator lists all). */
  readonly inputLimit?: number;
  /** The job runs on a local stack, which reads `file://` inputs; anywhere else they are refused. */
  readonly localFiles?: boolean;
}

/**
 * Every submission check, in order: locations (pure), input exists and holds
 * bytes, output free unless `overwrite`. Returns the input objects listed.
 * Throws SubmissionRefusedError with the reason; S3 outages are rethrown as they are.
 */
export async function checkSubmission(
  blobs: BlobStore,
  jobBucket: string,
  jobId: string,
  m: Locations,
  o: SubmissionCheckOptions = {},
): Promise<ObjectInfo[]> {
  checkJobId(jobId);
  const problem = outputLocationProblem(jobBucket, jobId, m);
  if (problem) throw new SubmissionRefusedError(problem);
  const local = inputsOf(m).find(isFileUri);
  if (local !== undefined && !o.localFiles) throw new SubmissionRefusedError(localInputRefusal(local));
  const settings = settingsOf(m);
  const uris = inputsOf(m).filter((uri) => !(o.skipInputs ?? []).includes(uri));
  // The output check goes out with the listing (one round trip less before the job exists);
  // an input refusal still comes first, as when they ran one after the other.
  const outputTaken = !m.overwrite && !o.resuming ? outputHoldsObjects(blobs, m.output) : Promise.resolve(false);
  outputTaken.catch(() => {}); // awaited below, after the input checks
  const inputs = uris.length === 0 ? [] : await listInputs(blobs, uris, settings, o.inputLimit, o.localFiles);
  if (uris.length > 0 && inputs.length === 0) {
    throw new SubmissionRefusedError(`Input ${uris.join(', ')} holds only hidden files (_* and .*, skipped as in Hadoop): nothing to process.`);
  }
  if (inputs.length > 0 && inputs.every((x) => x.size === 0)) {
    throw new SubmissionRefusedError(`Input ${inputsOf(m).join(', ')} is empty (0 bytes): nothing to process.`);
  }
  if (await outputTaken) {
    throw new SubmissionRefusedError(
      `Output ${formatS3Uri(asPrefix(parseS3Uri(m.output)))} already exists and holds objects: choose another output, remove it, ` +
        'or pass --overwrite ("overwrite": true in a manifest) to replace its part files.',
    );
  }
  return inputs;
}

/** Whether the output prefix holds any object; S3 refusals become SubmissionRefusedError. */
async function outputHoldsObjects(blobs: BlobStore, output: string): Promise<boolean> {
  const out = asPrefix(parseS3Uri(output));
  try {
    return await blobs.hasAny(out.bucket, out.key);
  } catch (err) {
    throw refusalOf(err, output);
  }
}
