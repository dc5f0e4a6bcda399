/**
 * Turn `run`/`submit` flags into a job: check local paths, bundle TypeScript
 * modules, and describe what to upload. Every check happens before anything is
 * uploaded, so a mistake never leaves a half-submitted job behind.
 */
import { accessSync, constants, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { joinCommandLine, splitCommandLine } from '../core/argv.js';
import { UsageError } from '../core/errors.js';
import { defaultOutputPrefix, fileKey, inputPrefix } from '../core/layout.js';
import { jobConfFromFlags } from './jobconf-flags.js';
import { parseEnvPairs } from '../core/jobconf-args.js';
import { type ManifestInput, type Step, validateManifest } from '../core/manifest.js';
import { parseS3Uri } from '../core/s3uri.js';
import { bundleStepModule } from './bundle.js';
import { type JobSteps, mrjobSteps } from './mrjob.js';

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

/**
 * The `file://` URI of a local input read in place, or undefined when its path cannot
 * be one: a glob character, comma or backslash in it would read as a pattern or list
 * (core/input-listing.ts), so such a path is uploaded instead.
 */
export function fileInputUri(local: string): string | undefined {
  const abs = path.resolve(local);
  // eslint-disable-next-line no-control-regex -- control characters cannot be in an input URI
  if (/[*?[\]{},\\\u0000-\u001f\u007f]/.test(abs)) return undefined;
  return `file://${abs}${statSync(abs).isDirectory() && abs !== '/' ? '/' : ''}`;
}

const MODULE_RE = /\.(mjs|js|ts|mts)$/;
/**
 * True for an S3 location. Anything that looks like a URI (`s3:/x`, `S3://x`,
 * `https://...`) must be a valid s3:// URI: it is never taken as a local path.
 */
function isS3(v: string, what: string): boolean {
  if (v.startsWith('s3://')) return true;
  if (/^s3:/i.test(v) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    throw new UsageError(
      `Invalid ${what} "${v}": give a local path or an S3 URI of the form s3://<bucket>/<key>, e.g. s3://my-bucket/input/.`,
    );
  }
  return false;
}

/** Every regular file under a path (the path itself if it is a file), sorted. */
function listLocalFiles(root: string): string[] {
  const st = statSync(root);
  if (st.isFile()) return [root];
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(path.join(entry.parentPath, entry.name));
  }
  return out.sort();
}

function onPath(program: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    try {
      accessSync(path.join(dir, program), constants.X_OK);
      return true;
    } catch {}
  }
  return false;
}

export class JobPackager {
  readonly shipped = new Map<string, string>();
  private bundleDir: string | undefined;

  constructor(
    readonly jobId: string,
    readonly bucket: string,
  ) {}

  private ship(name: string, local: string): void {
    const prev = this.shipped.get(name);
    if (prev !== undefined && path.resolve(prev) !== path.resolve(local)) {
      throw new UsageError(`Two different files are both named "${name}" (${prev}, ${local}); rename one.`);
    }
    this.shipped.set(name, local);
  }

  /**
   * `--steps file.json` → the manifest's steps: a JSON list (or `{"steps": [...]}`); each
   * string mapper/reducer/combiner is shipped like the -m/-r/-c flags. The rest is checked
   * with the manifest.
   */
  private async stepsFile(file: string): Promise<NonNullable<ManifestInput['steps']>> {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new UsageError(`--steps ${file}: ${(err as Error).message}`, { cause: err });
    }
    const list = Array.isArray(raw) ? raw : (raw as { steps?: unknown } | null)?.steps;
    if (!Array.isArray(list)) throw new UsageError(`--steps ${file}: expected a JSON list of steps (or {"steps": [...]})`);
    const out: unknown[] = [];
    for (const [i, st] of list.entries()) {
      if (st === null || typeof st !== 'object' || Array.isArray(st)) {
        throw new UsageError(`--steps ${file}: step ${i + 1} must be an object with a "mapper"`);
      }
      const step: Record<string, unknown> = { ...(st as Record<string, unknown>) };
      for (const role of ['mapper', 'reducer', 'combiner'] as const) {
        const v = step[role];
        if (typeof v === 'string' && v.trim() !== '') step[role] = await this.step(`step ${i + 1} ${role}`, v);
      }
      out.push(step);
    }
    // Shapes and values are checked with the whole manifest (validateManifest below).
    return out as NonNullable<ManifestInput['steps']>;
  }

  /** A mapper/reducer/combiner flag → a manifest step, shipping local files. */
  async step(flag: string, value: string): Promise<Step> {
    const role = flag.charAt(0).toUpperCase() + flag.slice(1);
    const first = splitCommandLine(value)[0];
    if (first === undefined) throw new UsageError(`${role} is empty: give --${flag} a command or a module file.`);
    if (MODULE_RE.test(value) && !value.includes(' ')) {
      if (!existsSync(value)) throw new UsageError(`${role} module ${value} does not exist: check the path.`);
      const name = `${path.basename(value).replace(MODULE_RE, '')}.mjs`;
      if (!this.shipped.has(name)) {
        this.bundleDir ??= await mkdtemp(path.join(os.tmpdir(), 'mapreduce-bundle-'));
        const outfile = path.join(this.bundleDir, name);
        try {
          await bundleStepModule(value, outfile);
        } catch (err) {
          throw new UsageError(`${role} module ${value} does not compile: ${(err as Error).message}`, { cause: err });
        }
        this.ship(name, outfile);
      }
      return { module: name };
    }
    const words = splitCommandLine(value);
    if (existsSync(first) && statSync(first).isFile()) {
      try {
        accessSync(first, constants.X_OK);
      } catch {
        throw new UsageError(`${role} ${first} is not executable: run \`chmod +x ${first}\`.`);
      }
      const name = path.basename(first);
      this.ship(name, first);
      return joinCommandLine([name, ...words.slice(1)]);
    }
    if (existsSync(first) && first.includes('/')) {
      throw new UsageError(`${role} ${first} is a directory, not an executable file: name the script inside it.`);
    }
    if (first.includes('/')) {
      throw new UsageError(`${role} ${first} does not exist: check the path (relative to ${process.cwd()}).`);
    }
    if (!onPath(first)) {
      throw new UsageError(
        `${role} "${first}" is neither a file here nor a program on PATH: give the path of your script, e.g. ./${first}.`,
      );
    }
    return value;
  }

  /** The files of one local input file or directory, checked first. */
  private localInputFiles(input: string): string[] {
    if (!existsSync(input)) {
      throw new UsageError(
        `Input ${input} does not exist: give an existing file or directory (relative to ${process.cwd()}) or an s3:// URI.`,
      );
    }
    const files = listLocalFiles(input);
    if (files.length === 0) {
      throw new UsageError(`Input directory ${input} is empty (no files in it): add input files, or point --input elsewhere.`);
    }
    if (files.every((file) => statSync(file).size === 0)) {
      throw new UsageError(`Input ${input} holds only empty files (0 bytes): nothing to process.`);
    }
    return files;
  }

  /** The steps of a job given by -m/-r/-c or --steps. */
  private async flagSteps(f: JobFlags): Promise<JobSteps> {
    const extra = f.jobArgs?.[0];
    if (extra !== undefined) {
      throw new UsageError(
        `${extra.startsWith('-') ? 'unknown option' : 'unexpected argument'} '${extra}' (job arguments go with --mrjob job.py only)`,
      );
    }
    if ((f.steps === undefined) === (f.mapper === undefined)) {
      throw new UsageError(
        'Give a mapper (-m, with -r/-c) or --steps <file.json> for a multi-step job (or --mrjob job.py), not both and not neither.',
      );
    }
    if (f.steps !== undefined && (f.reducer !== undefined || f.combiner !== undefined)) {
      throw new UsageError('With --steps, each step in the file names its reducer and combiner; drop -r/-c.');
    }
    if (f.steps !== undefined) return { steps: await this.stepsFile(f.steps), jobconf: jobConfFromFlags(f), env: {} };
    return {
      mapper: await this.step('mapper', f.mapper!),
      ...(f.reducer ? { reducer: await this.step('reducer', f.reducer) } : {}),
      ...(f.combiner ? { combiner: await this.step('combiner', f.combiner) } : {}),
      jobconf: jobConfFromFlags(f),
      env: {},
    };
  }

  /**
   * Local input is read in place on a local stack (`file://`, nothing uploaded), else
   * uploaded under the job's input prefix. The same files are read either way.
   */
  async prepare(f: JobFlags, where: PackageTarget = { localFiles: false }): Promise<PreparedJob> {
    const uploads: [string, string][] = [];
    const values = typeof f.input === 'string' ? [f.input] : [...f.input];
    const inputs: string[] = [];
    const uploadedInputs: string[] = [];
    const localInputFiles: string[] = [];
    for (const [i, value] of values.entries()) {
      if (isS3(value, '--input')) {
        // A comma list of URIs, each may hold globs (checked as the manifest's input).
        inputs.push(value);
        continue;
      }
      const files = this.localInputFiles(value);
      localInputFiles.push(...files);
      const inPlace = where.localFiles ? fileInputUri(value) : undefined;
      if (inPlace !== undefined) {
        inputs.push(inPlace);
        continue;
      }
      const prefix = values.length === 1 ? inputPrefix(this.jobId) : `${inputPrefix(this.jobId)}${i}/`;
      const base = statSync(value).isFile() ? path.dirname(value) : value;
      for (const file of files) uploads.push([`${prefix}${path.relative(base, file)}`, file]);
      inputs.push(`s3://${this.bucket}/${prefix}`);
      uploadedInputs.push(`s3://${this.bucket}/${prefix}`);
    }
    let output: string;
    let localOutputDir: string | undefined;
    if (isS3(f.output, '--output')) {
      parseS3Uri(f.output);
      output = f.output;
    } else {
      if (
        existsSync(f.output) &&
        (!statSync(f.output).isDirectory() || readdirSync(f.output).length > 0) &&
        !f.overwrite
      ) {
        throw new UsageError(
          `Output ${f.output} already exists and is not empty: choose another output, remove it, ` +
            'or pass --overwrite to replace its part files (other files in it are kept).',
        );
      }
      localOutputDir = f.output;
      output = `s3://${this.bucket}/${defaultOutputPrefix(this.jobId)}`;
    }
    if (f.mrjob !== undefined && f.steps !== undefined) {
      throw new UsageError('--mrjob job.py gives the job its steps: drop --steps.');
    }
    const { jobconf, env: jobEnv, ...steps } =
      f.mrjob === undefined ? await this.flagSteps(f) : await mrjobSteps(f, (name, local) => this.ship(name, local));
    for (const extra of f.file ?? []) {
      if (!existsSync(extra)) throw new UsageError(`File ${extra} (--file) does not exist.`);
      this.ship(path.basename(extra), extra);
    }
    for (const [name, local] of this.shipped) uploads.push([fileKey(this.jobId, name), local]);
    const env = { ...jobEnv, ...parseEnvPairs(f.cmdenv ?? []) };
    const manifest: ManifestInput = {
      ...(f.name ? { name: f.name } : {}),
      input: inputs.length === 1 ? inputs[0]! : inputs,
      output,
      ...steps,
      files: [...this.shipped.keys()].map((n) => `s3://${this.bucket}/${fileKey(this.jobId, n)}`),
      ...(f.numReducers !== undefined ? { numReducers: f.numReducers } : {}),
      ...(f.splitSize !== undefined ? { splitSize: f.splitSize } : {}),
      ...(f.numMappers !== undefined ? { numMappers: f.numMappers } : {}),
      ...(f.overwrite && !localOutputDir ? { overwrite: true } : {}),
      ...(f.maxAttempts !== undefined ? { maxAttempts: f.maxAttempts } : {}),
      ...(f.taskTimeout !== undefined ? { taskTimeoutSeconds: f.taskTimeout } : {}),
      ...(Object.keys(env).length > 0 ? { env } : {}),
      ...(Object.keys(jobconf).length > 0 ? { jobconf } : {}),
    };
    // Every check of the manifest (jobconf values, input URIs) before anything is uploaded.
    validateManifest(manifest);
    return { jobId: this.jobId, manifest, uploads, localOutputDir, uploadedInputs, localInputFiles };
  }
}
