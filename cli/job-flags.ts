/** The shapes of a job as the CLI's flags give it, and of the job they package into. */
import type { ManifestInput } from '../core/manifest.js';

/** The job fields that the CLI's flags and the library's `JobSpec` share. */
export interface JobShape {
  /** An `s3://` prefix, or a local directory (filled with the part files when the job succeeds). */
  readonly output: string;
  /** An executable with arguments, or a `.ts`/`.js` module (bundled and shipped). */
  readonly mapper: string;
  readonly reducer?: string;
  readonly combiner?: string;
  readonly numReducers?: number;
  readonly splitSize?: number;
  readonly numMappers?: number;
  readonly overwrite?: boolean;
  readonly name?: string;
  readonly maxAttempts?: number;
}

export interface JobFlags extends Omit<JobShape, 'mapper'> {
  /** Required unless `steps` or `mrjob` is given. */
  readonly mapper?: string;
  /** `--steps file.json`: the steps of a multi-step job (instead of mapper/reducer/combiner). */
  readonly steps?: string;
  /** An mrjob job script (`--mrjob job.py`): its steps replace mapper, combiner and reducer. */
  readonly mrjob?: string;
  /** The mrjob job's own arguments (passthrough options, `--jobconf`, ...). */
  readonly jobArgs?: readonly string[];
  /** The interpreter of an mrjob job's tasks (mrjob's --python-bin; default python3). */
  readonly pythonBin?: string;
  /** One or more -i values (each may be a comma list of S3 URIs, with globs). */
  readonly input: string | readonly string[];
  readonly file?: string[];
  readonly taskTimeout?: number;
  /** `-D key=value` values. */
  readonly jobconf?: readonly string[];
  /** `--cmdenv NAME=VALUE` values. */
  readonly cmdenv?: readonly string[];
  readonly partitioner?: string;
  readonly comparator?: string;
  readonly recursive?: boolean;
  /** Upload local input even when the target could read it in place (`--upload-input`). */
  readonly uploadInput?: boolean;
}

/** Where the job will run, as far as packaging cares. */
export interface PackageTarget {
  /**
   * The target is a local stack and may read local input in place (`file://`): nothing
   * is uploaded. Otherwise (a deployed stack, or --upload-input) local input is uploaded.
   */
  readonly localFiles: boolean;
}

export interface PreparedJob {
  readonly jobId: string;
  readonly manifest: ManifestInput;
  /** Local files to upload before the manifest: [key in the job bucket, local path]. */
  readonly uploads: readonly (readonly [string, string])[];
  /** Set when the output is a local directory to download into. */
  readonly localOutputDir?: string;
  /** The s3:// prefixes local inputs are uploaded to. */
  readonly uploadedInputs: readonly string[];
  /** Every local input file, whether uploaded or read in place. */
  readonly localInputFiles: readonly string[];
}
