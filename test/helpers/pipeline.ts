/**
 * Shared bits of the pipeline acceptance tests: a seeded PRNG for generated data, a
 * one-call "upload, submit, wait, read" job runner on a TestStack, and the Unix
 * reference over per-file input. Running the CLI: cli.ts.
 */
import path from 'node:path';
import type { ManifestInput, Step } from '../../core/manifest.js';
import type { JobRecord } from '../../core/model.js';
import { mulberry32 as prng } from '../../core/prng.js';
import { forEachLimit } from '../../services/context.js';
import { REPO, type TestStack, unixPipeline } from './stack.js';

/** The tests' seeded PRNG (core/prng.ts). */
export { prng };

export const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
export const randInt = (rand: () => number, lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo + 1));

/** `n` words from a small vocabulary, so that keys repeat. */
export function words(rand: () => number, n: number, vocab: readonly string[] = VOCAB): string {
  return Array.from({ length: n }, () => pick(rand, vocab)).join(' ');
}

export const VOCAB = ['the', 'map', 'reduce', 'shuffle', 'sort', 'key', 'value', 'split', 'task', 'job', 'a', 'zeta'];

/**
 * The input the framework sees, as one stream for `cat | map | sort | reduce`: the files
 * in key order, each non-empty file ending with '\n' (the framework treats a final line
 * without '\n' as a record of its own file, where plain `cat` would glue it to the next file).
 */
export function referenceInput(files: Record<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const name of Object.keys(files).sort()) {
    // Hadoop's LineReader ends a line at LF, CR-LF or a lone CR, and strips the ending.
    const b = Buffer.from((files[name] as Buffer).toString('latin1').replace(/\r\n?/g, '\n'), 'latin1');
    parts.push(b);
    if (b.length > 0 && b[b.length - 1] !== 0x0a) parts.push(Buffer.from('\n'));
  }
  return Buffer.concat(parts);
}

/** A step: a program on PATH (`cat`, `cut -f1`), an example script, or a shipped module. */
export type StepSpec = string | { readonly module: string };

export interface JobSpec {
  /** Unique per job within a stack: names the input, code and output prefixes. */
  readonly name: string;
  readonly files: Record<string, Buffer>;
  readonly mapper: StepSpec;
  readonly reducer?: StepSpec;
  readonly combiner?: StepSpec;
  /** Local files to ship (example scripts, bundled modules), by their base name. */
  readonly ship?: readonly string[];
  readonly extra?: Partial<ManifestInput>;
}

export interface JobRun {
  readonly jobId: string;
  readonly job: JobRecord;
  readonly output: string;
  readonly parts: Buffer[];
}

/** Upload input and shipped files, submit the manifest, wait, and read the part files. */
export async function startJob(t: TestStack, spec: JobSpec): Promise<{ jobId: string; output: string }> {
  // Uploads in parallel: 500 sequential PUTs to a busy emulator take long.
  const names = Object.keys(spec.files);
  await forEachLimit(names, 8, (n) => t.blobs.putBytes(t.bucket, `in/${spec.name}/${n}`, spec.files[n] as Buffer));
  const input = `s3://${t.bucket}/in/${spec.name}/`;
  const files: string[] = [];
  for (const local of spec.ship ?? []) files.push(await t.putFile(local, `code/${spec.name}/${path.basename(local)}`));
  const output = `s3://${t.bucket}/out/${spec.name}/`;
  const manifest: ManifestInput = {
    input,
    output,
    mapper: spec.mapper as Step,
    ...(spec.reducer ? { reducer: spec.reducer as Step } : {}),
    ...(spec.combiner ? { combiner: spec.combiner as Step } : {}),
    files,
    ...spec.extra,
  };
  const jobId = await t.submit(manifest, `${spec.name}-${Date.now().toString(36)}`);
  return { jobId, output };
}

export async function finishJob(
  t: TestStack,
  started: { jobId: string; output: string },
  timeoutMs = 150_000,
): Promise<JobRun> {
  const job = await t.waitForJob(started.jobId, timeoutMs).catch((err: Error) => {
    err.message += `\n--- worker logs (tail) ---\n${t.workerLogs().slice(-6000)}`;
    throw err;
  });
  if (job.status !== 'SUCCEEDED') {
    throw new Error(`job ${started.jobId} ${job.status}: ${job.reason}\n${t.workerLogs().slice(-4000)}`);
  }
  const parts = await t.readParts(started.output);
  return { jobId: started.jobId, job, output: started.output, parts };
}

export async function runJob(t: TestStack, spec: JobSpec): Promise<JobRun> {
  return finishJob(t, await startJob(t, spec));
}

/** The reference output of a job spec: local paths for shipped scripts, same command lines otherwise. */
export function reference(files: Record<string, Buffer>, mapper: string, reducer?: string): Buffer {
  return unixPipeline(referenceInput(files), mapper, reducer);
}

export const WC_MAP = path.join(REPO, 'examples', 'wordcount', 'wc_map.sh');
export const WC_REDUCE = path.join(REPO, 'examples', 'wordcount', 'wc_reduce.sh');
export const WC_SUM = path.join(REPO, 'examples', 'wordcount', 'wc_sum.sh');
