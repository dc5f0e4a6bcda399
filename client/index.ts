/**
 * `serverless-mapreduce`: submit jobs and follow them from TypeScript.
 *
 * ```ts
 * import { runJob } from 'serverless-mapreduce';
 *
 * const job = await runJob(
 *   { input: 'data/', output: 'out/', mapper: 'wc.ts', reducer: 'wc.ts', numReducers: 2 },
 *   { stack: 'MapReduce' }, // or {} for the local stack (`mapreduce local up`)
 * );
 * console.log(job.status, job.counters, job.costUsd);
 * ```
 *
 * The same code paths as the `mapreduce` CLI: the same checks before anything is
 * uploaded, the same upload, the same job records. AWS credentials and region come
 * from the SDK's usual chain (AWS_PROFILE, AWS_REGION, ...).
 */
import { resolveTarget, type Target } from '../cli/target.js';
import type { JobFlags, JobShape } from '../cli/job-flags.js';
import type { ProgressSnapshot } from '../cli/progress.js';
import { UsageError } from '../core/errors.js';
import type { JobRecord } from '../core/model.js';
import { newJobId, TERMINAL_JOB_STATUSES } from '../core/model.js';
import type { ResourceNames } from '../core/resources.js';

export type { JobPhase, JobRecord, JobStatus } from '../core/model.js';
export type { ResourceNames } from '../core/resources.js';
export type { ProgressSnapshot } from '../cli/progress.js';
export { defineJob } from './job.js';

/**
 * Where the framework runs: a deployed CDK stack (names read from its outputs), a
 * local stack on the emulator (the default: AWS_ENDPOINT_URL or 127.0.0.1:4566, prefix
 * MR_PREFIX or `mapreduce-local`), or explicit resource names.
 */
export type Connection =
  | { readonly stack: string }
  | { readonly endpoint?: string; readonly prefix?: string }
  | { readonly names: ResourceNames; readonly region?: string; readonly endpoint?: string };

/** A job, as `mapreduce run`/`submit` take it. Local paths are uploaded; a local output is downloaded. */
export interface JobSpec extends JobShape {
  /** A local file or directory, or an `s3://` prefix or object (or several). */
  readonly input: string;
  /** Extra local files shipped to every task's working directory. */
  readonly files?: readonly string[];
  readonly taskTimeoutSeconds?: number;
}

export interface SubmittedJob {
  readonly jobId: string;
  /** Where the output goes (the s3:// prefix the job writes). */
  readonly output: string;
  /** Set when `spec.output` was a local directory: `runJob` downloads into it. */
  readonly localOutputDir?: string;
}

/** A finished (or current) job with its modeled AWS cost. */
export type JobResult = JobRecord & { readonly costUsd: number };

/** One progress event: the job's state and its tasks' counts. */
export type ProgressEvent = ProgressSnapshot;

export interface WaitOptions {
  /** How often to poll the job record (default 500 ms). */
  readonly pollMs?: number;
  /** Stop waiting (the job keeps running) when this signal aborts. */
  readonly signal?: AbortSignal;
  /** Called with every progress event. */
  readonly onProgress?: (e: ProgressEvent) => void;
}

const targets = new WeakMap<object, Promise<Target>>();

/** Resolve a connection once per connection object. */
export function connect(c: Connection = {}): Promise<Target> {
  let t = targets.get(c);
  if (!t) {
    t = 'names' in c ? explicitTarget(c) : resolveTarget(c);
    targets.set(c, t);
  }
  return t;
}

async function explicitTarget(c: { names: ResourceNames; region?: string; endpoint?: string }): Promise<Target> {
  const { createClients } = await import('../aws/clients.js');
  const clients = createClients({ region: c.region, endpoint: c.endpoint });
  return { kind: c.endpoint ? 'local' : 'aws', clients, names: c.names, description: `bucket ${c.names.bucket}, table ${c.names.table}` };
}

function flags(s: JobSpec): JobFlags {
  return {
    input: s.input,
    output: s.output,
    mapper: s.mapper,
    reducer: s.reducer,
    combiner: s.combiner,
    numReducers: s.numReducers,
    splitSize: s.splitSize,
    numMappers: s.numMappers,
    file: s.files ? [...s.files] : undefined,
    overwrite: s.overwrite === true,
    name: s.name,
    maxAttempts: s.maxAttempts,
    taskTimeout: s.taskTimeoutSeconds,
  };
}

/** Check, upload and start a job; returns at once (the coordinator plans it). */
export async function submitJob(spec: JobSpec, c: Connection = {}): Promise<SubmittedJob> {
  const t = await connect(c);
  const [{ JobPackager }, { preflight, uploadJob }] = await Promise.all([
    import('../cli/job-spec.js'),
    import('../cli/job-client.js'),
  ]);
  const jobId = newJobId();
  const prepared = await new JobPackager(jobId, t.names.bucket).prepare(flags(spec));
  await preflight(t, prepared);
  await uploadJob(t, prepared);
  return {
    jobId,
    output: prepared.manifest.output,
    ...(prepared.localOutputDir ? { localOutputDir: prepared.localOutputDir } : {}),
  };
}

/** The job record with its modeled cost so far, or undefined when there is no such job (yet). */
export async function getJob(jobId: string, c: Connection = {}): Promise<JobResult | undefined> {
  const t = await connect(c);
  const [{ JobStore }, { fetchJobCost }] = await Promise.all([import('../aws/job-store.js'), import('../cli/job-cost.js')]);
  const job = await new JobStore(t.clients, t.names.table).get(jobId);
  return job && { ...job, costUsd: (await fetchJobCost(t, job)).totalUsd };
}

/** Cancel a running job (pending tasks are cancelled, running ones stop at their next check). */
export async function cancelJob(jobId: string, c: Connection = {}, reason?: string): Promise<void> {
  const { cancelJob: cancel } = await import('../cli/job-client.js');
  await cancel(await connect(c), jobId, reason);
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/**
 * Progress events until the job ends (the last event has a terminal status). Breaking
 * out of the loop stops polling; the job keeps running.
 *
 * ```ts
 * for await (const e of watchJob(jobId)) console.log(e.phase, e.map.done, e.reduce.done);
 * ```
 */
export async function* watchJob(jobId: string, c: Connection = {}, o: Omit<WaitOptions, 'onProgress'> = {}): AsyncGenerator<ProgressEvent> {
  const t = await connect(c);
  const [{ JobStore }, { snapshot }] = await Promise.all([import('../aws/job-store.js'), import('../cli/job-client.js')]);
  const jobs = new JobStore(t.clients, t.names.table);
  const started = Date.now();
  while (!o.signal?.aborted) {
    const job = await jobs.get(jobId);
    if (job) {
      const e = await snapshot(t, job, started);
      yield e;
      if (TERMINAL_JOB_STATUSES.includes(job.status)) return;
    } else if (Date.now() - started > 30_000) {
      throw new UsageError(`No job "${jobId}" on ${t.description} after 30 s: is the stack running?`);
    }
    await sleep(o.pollMs ?? 500, o.signal);
  }
}

/** Wait until the job ends; returns its final record and modeled cost. */
export async function waitForJob(jobId: string, c: Connection = {}, o: WaitOptions = {}): Promise<JobResult> {
  for await (const e of watchJob(jobId, c, o)) o.onProgress?.(e);
  if (o.signal?.aborted) throw new Error(`Stopped waiting for job ${jobId}: ${String(o.signal.reason ?? 'aborted')}`);
  const job = await getJob(jobId, c);
  if (!job) throw new UsageError(`Job ${jobId} disappeared while waiting for it.`);
  return job;
}

/**
 * Submit a job, wait for it, and download a local output directory when it succeeds.
 * Resolves with the final record whatever the outcome: check `status`.
 */
export async function runJob(spec: JobSpec, c: Connection = {}, o: WaitOptions = {}): Promise<JobResult & SubmittedJob> {
  const submitted = await submitJob(spec, c);
  const job = await waitForJob(submitted.jobId, c, o);
  if (job.status === 'SUCCEEDED' && submitted.localOutputDir) {
    const { downloadOutput } = await import('../cli/job-client.js');
    await downloadOutput(await connect(c), job, submitted.localOutputDir);
  }
  return { ...job, ...submitted };
}
