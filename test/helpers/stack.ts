/**
 * Integration-test harness: a LocalStack with a unique resource prefix (so tests
 * never share state and never reset the emulator), short intervals set through
 * configuration, and helpers to upload input, submit, wait and read output.
 * `stop()` fails the test if a worker process is left running.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BlobStore } from '../../aws/blob-store.js';
import { SHORT_TIMINGS, type Timings } from '../../core/config.js';
import { manifestKey } from '../../core/layout.js';
import type { ManifestInput } from '../../core/manifest.js';
import { type JobRecord, newJobId, partName } from '../../core/model.js';
import { LocalStack } from '../../local/stack.js';
import { waitFor } from './wait.js';

export const ENDPOINT = process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566';

/** Intervals short enough for tests: 200 ms heartbeats, dead after 1 s, fast checker and polls. */
export const FAST_TIMINGS: Timings = SHORT_TIMINGS;

export interface TestStackOptions {
  readonly workers?: number;
  readonly timings?: Partial<Timings>;
  readonly workerEnv?: Record<string, string>;
  /** Another emulator than the shared one (e.g. a private one for fault-injection tests). */
  readonly endpoint?: string;
}

export class TestStack {
  private constructor(
    readonly stack: LocalStack,
    readonly dir: string,
  ) {}

  static async start(o: TestStackOptions = {}): Promise<TestStack> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'mr-test-'));
    const stack = await LocalStack.start({
      endpoint: o.endpoint ?? ENDPOINT,
      prefix: `t-${randomBytes(5).toString('hex')}`,
      workers: o.workers ?? 2,
      timings: { ...FAST_TIMINGS, ...o.timings },
      stateDir: dir,
      workerEnv: o.workerEnv,
    });
    return new TestStack(stack, dir);
  }

  get s() {
    return this.stack.services;
  }

  get bucket(): string {
    return this.stack.names.bucket;
  }

  get blobs(): BlobStore {
    return this.s.blobs;
  }

  /** Upload objects under `prefix` (relative keys → contents); returns the s3:// prefix URI. */
  async putInput(prefix: string, files: Record<string, string | Buffer>): Promise<string> {
    for (const [name, body] of Object.entries(files)) await this.blobs.putBytes(this.bucket, `${prefix}${name}`, body);
    return `s3://${this.bucket}/${prefix}`;
  }

  /** Upload a local file (e.g. an executable from examples/) and return its s3:// URI. */
  async putFile(local: string, key: string): Promise<string> {
    await this.blobs.putFile(this.bucket, key, local);
    return `s3://${this.bucket}/${key}`;
  }

  /** Start a job the way users do: upload its manifest to jobs/<id>/job.json. */
  async submit(manifest: ManifestInput | string, jobId: string = newJobId()): Promise<string> {
    const body = typeof manifest === 'string' ? manifest : JSON.stringify(manifest);
    await this.blobs.putBytes(this.bucket, manifestKey(jobId), body);
    return jobId;
  }

  async job(jobId: string): Promise<JobRecord | undefined> {
    return this.s.jobs.get(jobId);
  }

  /** Poll until the job is SUCCEEDED, FAILED or CANCELLED (throws after timeoutMs). */
  async waitForJob(jobId: string, timeoutMs = 90_000): Promise<JobRecord> {
    let job: JobRecord | undefined;
    let timeouts = 0;
    return waitFor(
      `job ${jobId} to finish`,
      async () => {
        try {
          job = await this.job(jobId);
        } catch (err) {
          // The emulator is shared by the test files that run in parallel: a poll that
          // times out (retries spent) is not the job's failure; the deadline still holds.
          if ((err as Error).name !== 'TimeoutError') throw err;
          timeouts++;
          return undefined;
        }
        return job && (job.status === 'SUCCEEDED' || job.status === 'FAILED' || job.status === 'CANCELLED') ? job : undefined;
      },
      { timeoutMs, detail: () => `(now ${job?.status}/${job?.phase}; ${timeouts} polls timed out)` },
    );
  }

  /** The bytes of each part file under an output prefix, in part order. */
  async readParts(outputUri: string, expectedParts?: number): Promise<Buffer[]> {
    const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(outputUri);
    if (!m) throw new Error(`bad output ${outputUri}`);
    const [, bucket, key] = m as unknown as [string, string, string];
    const prefix = key.endsWith('/') ? key : `${key}/`;
    const objects = (await this.blobs.list(bucket, prefix)).filter((o) => /part-\d+$/.test(o.key));
    if (expectedParts !== undefined && objects.length !== expectedParts) {
      throw new Error(`expected ${expectedParts} part files under ${outputUri}, found ${objects.length}`);
    }
    const parts: Buffer[] = [];
    for (let i = 0; i < objects.length; i++) {
      const body = await this.blobs.getObject(bucket, `${prefix}${partName(i)}`);
      parts.push(Buffer.from(await body.toArray().then((chunks) => Buffer.concat(chunks as Buffer[]))));
    }
    return parts;
  }

  /** Stop everything; throws if any worker process is still alive afterwards. */
  async stop(): Promise<void> {
    try {
      await this.stack.stop();
      const leaked = this.stack.workerProcesses.filter((c) => c.exitCode === null && c.signalCode === null);
      if (leaked.length > 0) throw new Error(`leaked worker processes: ${leaked.map((c) => c.pid).join(', ')}`);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

  /** The worker logs (JSON lines), for debugging failed tests. */
  workerLogs(): string {
    return this.stack.workerProcesses
      .map((_, i) => {
        try {
          return readFileSync(path.join(this.dir, `worker-${i}.log`), 'utf8');
        } catch {
          return '';
        }
      })
      .join('\n');
  }
}

/** Sorted lines (byte order), for comparing outputs whose part split may differ. */
export function sortedLines(data: Buffer | Buffer[]): string[] {
  const all = Buffer.concat(Array.isArray(data) ? data : [data]).toString('latin1');
  const lines = all.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * The reference: `cat inputs | map | LC_ALL=C sort | reduce` run by a real shell
 * (test-only; the framework itself never uses a shell). Returns stdout bytes.
 */
export function unixPipeline(inputs: Buffer, mapper: string, reducer?: string): Buffer {
  const cmd = reducer ? `${mapper} | LC_ALL=C sort | ${reducer}` : mapper;
  const r = spawnSync('sh', ['-c', cmd], { input: inputs, maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`reference pipeline failed: ${r.stderr.toString()}`);
  return r.stdout;
}

export const REPO = path.resolve(import.meta.dirname, '..', '..');
export const example = (p: string) => path.join(REPO, 'examples', p);
