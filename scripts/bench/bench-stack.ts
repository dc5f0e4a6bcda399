/** The benchmark's local stack: start it, run a job and time it, read its output, stop it. */
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DEFAULT_TIMINGS, type Timings } from '../../core/config.js';
import { manifestKey } from '../../core/layout.js';
import type { ManifestInput } from '../../core/manifest.js';
import { type JobRecord, newJobId } from '../../core/model.js';
import { LocalStack } from '../../local/stack.js';
import type { Services } from '../../services/context.js';
import { cutAtLines } from './corpus.js';
import { pidListeningOn, procCpuSeconds } from './processes.js';
import type { BenchOptions } from './results.js';

/**
 * How long a job's call window (`JobRun.window`) runs past the moment `_SUCCESS` was seen:
 * the workers' last calls of the job (their commits' follow-ups, logged after it) still count.
 */
export const CALL_WINDOW_TAIL_MS = 2000;

export interface JobRun {
  readonly jobId: string;
  readonly seconds: number;
  /** Epoch ms from the manifest's upload to CALL_WINDOW_TAIL_MS after `_SUCCESS` was seen. */
  readonly window: [number, number];
  readonly output: string;
  readonly job: JobRecord;
  readonly workerCpuSeconds: number;
  /** CPU seconds of the emulator over the job (0 when its process is not found). */
  readonly emulatorCpuSeconds: number;
  /** Claims of map tasks (attempts), and the committed map output (shuffle) bytes. */
  readonly mapAttempts: number;
  readonly shuffle: { total: number; maxPartition: number; taskItemBytes: number };
}

/** A local stack plus the few things the harness does with it. */
export class BenchStack {
  private constructor(
    readonly stack: LocalStack,
    readonly stateDir: string,
  ) {}

  static async start(
    o: Pick<BenchOptions, 'workDir' | 'endpoint' | 'workers' | 'startEmulator'>,
    workerEnv: Record<string, string>,
    workerNodeArgs: readonly string[] = [],
    timings: Timings = DEFAULT_TIMINGS,
    keepLogs = false,
  ): Promise<BenchStack> {
    const stateDir = path.join(o.workDir, `stack-${randomBytes(4).toString('hex')}`);
    // The workers log to <stateDir>/worker-N.log anyway; with keepLogs the checker and coordinator too.
    const log = keepLogs ? jsonLinesLog(path.join(stateDir, 'stack.log')) : undefined;
    const stack = await LocalStack.start({
      endpoint: o.endpoint,
      prefix: `bench-${randomBytes(4).toString('hex')}`,
      workers: o.workers,
      // By default those of `mapreduce local up`: 2 s heartbeats, 20 s long polls, 3 s checker.
      timings,
      stateDir,
      workerEnv,
      workerNodeArgs,
      startEmulator: o.startEmulator,
      ...(log ? { log } : {}),
    });
    return new BenchStack(stack, stateDir);
  }

  get s() {
    return this.stack.services;
  }

  get bucket(): string {
    return this.stack.names.bucket;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  /** The emulator's CPU seconds so far (the process listening on the endpoint's port), 0 when not found. */
  emulatorCpuSeconds(): number {
    this.emulatorPid ??= pidListeningOn(Number(new URL(this.stack.options.endpoint).port));
    return this.emulatorPid ? procCpuSeconds(this.emulatorPid) : 0;
  }

  private emulatorPid: number | undefined;

  workerCpuSeconds(): number {
    return this.stack.workerProcesses.reduce((n, c) => n + (c.pid ? procCpuSeconds(c.pid) : 0), 0);
  }

  /**
   * Submit a manifest and wait for `_SUCCESS` under its output; returns the run and the part
   * files' text (empty with `readOutput: false`, for outputs too big for one string).
   */
  async run(manifest: ManifestInput, pollMs: number, timeoutMs = 3_600_000, readOutput = true): Promise<JobRun> {
    const jobId = newJobId();
    const out = manifest.output.replace(/^s3:\/\/[^/]+\//, '');
    const prefix = out.endsWith('/') ? out : `${out}/`;
    const cpu0 = this.workerCpuSeconds();
    const emu0 = this.emulatorCpuSeconds();
    const t0 = performance.now();
    const w0 = Date.now();
    await this.s.blobs.putBytes(this.bucket, manifestKey(jobId), JSON.stringify(manifest));
    for (let i = 1; ; i++) {
      if (await this.s.blobs.head(this.bucket, `${prefix}_SUCCESS`)) break;
      if (i % 20 === 0) {
        const job = await this.s.jobs.get(jobId);
        if (job && (job.status === 'FAILED' || job.status === 'CANCELLED')) {
          throw new Error(`benchmark job ${jobId} ${job.status}: ${job.reason ?? ''}\n${this.workerLogTail()}`);
        }
      }
      if (performance.now() - t0 > timeoutMs) throw new Error(`benchmark job ${jobId} did not finish in time`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
    const seconds = (performance.now() - t0) / 1000;
    const w1 = Date.now();
    const workerCpuSeconds = this.workerCpuSeconds() - cpu0;
    const emulatorCpuSeconds = this.emulatorCpuSeconds() - emu0;
    // The job record turns SUCCEEDED right after _SUCCESS is written.
    let job: JobRecord | undefined;
    for (let i = 0; i < 200; i++) {
      job = await this.s.jobs.get(jobId);
      if (job?.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (job?.status !== 'SUCCEEDED') throw new Error(`benchmark job ${jobId} wrote _SUCCESS but is ${job?.status}`);
    const parts = (await this.s.blobs.list(this.bucket, prefix)).filter((o) => /part-\d+$/.test(o.key));
    let output = '';
    if (readOutput) for (const p of parts) output += await this.s.blobs.getText(this.bucket, p.key);
    return {
      jobId,
      seconds,
      window: [w0, w1 + CALL_WINDOW_TAIL_MS],
      output,
      job,
      workerCpuSeconds,
      emulatorCpuSeconds,
      mapAttempts: await this.mapAttempts(jobId),
      shuffle: await this.shuffleBytes(jobId),
    };
  }

  /** Number of map attempts of a job (each claim increments a task's attempt). */
  async mapAttempts(jobId: string): Promise<number> {
    const maps = await this.s.tasks.list(jobId, 'map');
    return maps.reduce((n, t) => n + t.attempt, 0);
  }

  /** Bytes of the committed map output objects (the shuffle). */
  async shuffleBytes(jobId: string): Promise<{ total: number; maxPartition: number; taskItemBytes: number }> {
    const maps = await this.s.tasks.list(jobId, 'map');
    let total = 0;
    const perPartition: number[] = [];
    for (const t of maps) {
      const off = t.output?.offsets ?? [0];
      total += off[off.length - 1]!;
      for (let r = 0; r + 1 < off.length; r++) perPartition[r] = (perPartition[r] ?? 0) + off[r + 1]! - off[r]!;
    }
    const taskItemBytes = Math.max(...maps.map((t) => JSON.stringify(t).length));
    return { total, maxPartition: Math.max(0, ...perPartition), taskItemBytes };
  }

  workerLogTail(): string {
    const tails: string[] = [];
    for (let i = 0; i < this.stack.workerProcesses.length; i++) {
      try {
        tails.push(readFileSync(path.join(this.stateDir, `worker-${i}.log`), 'utf8').split('\n').slice(-15).join('\n'));
      } catch {}
    }
    return tails.join('\n');
  }

  /** Stop the stack and delete everything the benchmark put in its bucket (frees the emulator's memory). */
  async stop(): Promise<void> {
    await this.stack.stop().catch(() => {});
    const { createClients, destroyClients } = await import('../../aws/clients.js');
    const c = createClients({ endpoint: this.stack.options.endpoint, region: 'us-east-1' });
    try {
      for (;;) {
        const listed = await c.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1000 }));
        const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length === 0) break;
        await c.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      }
    } catch {
    } finally {
      destroyClients(c);
    }
  }
}

/** A logger appending one JSON line per entry to `file` (the stack's own loops, for --keep-logs). */
function jsonLinesLog(file: string): Services['log'] {
  const line = (level: string) => (message: string, extra?: object) => {
    const entry = { time: new Date().toISOString(), level, message, ...extra };
    appendFileSync(file, `${JSON.stringify(entry, (_k, v: unknown) => (v instanceof Error ? `${v.name}: ${v.message}` : v))}\n`);
  };
  return { info: line('INFO'), warn: line('WARN'), error: line('ERROR'), debug: line('DEBUG') } as Services['log'];
}

/**
 * Store `data` as `parts` objects under `prefix`, cut after a '\n' near each equal share,
 * with Buffer bodies (sent in one piece, not as a chunked stream). Returns the largest
 * object's size: as a split size it makes each object exactly one split.
 */
export async function uploadInParts(b: BenchStack, prefix: string, data: Buffer, parts: number): Promise<number> {
  let largest = 1;
  for (const [i, [start, end]] of cutAtLines(data, parts).entries()) {
    await b.s.blobs.putBytes(b.bucket, `${prefix}part-${String(i).padStart(3, '0')}.txt`, data.subarray(start, end));
    largest = Math.max(largest, end - start);
  }
  return largest;
}

/** Upload a local file (a script, a bundle) and return its s3:// URI. */
export async function putCode(b: BenchStack, local: string, key: string): Promise<string> {
  await b.s.blobs.putFile(b.bucket, key, local);
  return b.uri(key);
}
