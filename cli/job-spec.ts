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
import type { JobFlags, PackageTarget, PreparedJob } from './job-flags.js';
import { checkedLocalInputFiles, fileInputUri, isS3, onPath } from './local-paths.js';
import { type JobSteps, mrjobSteps } from './mrjob.js';

const MODULE_RE = /\.(mjs|js|ts|mts)$/;

/** Packages one job: ships its local files under unique names and builds its manifest (see prepare). */
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
      const files = checkedLocalInputFiles(value);
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
