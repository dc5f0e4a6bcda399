/**
 * `mapreduce local up` stacks in tests: the long-lived child process, direct access to the
 * stack's resources, and the check that no process of a stack is left running.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { BlobStore } from '../../aws/blob-store.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { JobStore } from '../../aws/job-store.js';
import { TaskStore } from '../../aws/task-store.js';
import type { JobRecord } from '../../core/model.js';
import { localResourceNames, type ResourceNames } from '../../core/resources.js';
import { BIN, type CliResult, cli, finished, Output, spawnCli } from './cli.js';
import { ENDPOINT } from './stack.js';
import { waitFor } from './wait.js';

/** A unique stack prefix for one test file: `cli-<name>-<random>`. */
export const uniquePrefix = (name: string) => `cli-${name}-${randomBytes(3).toString('hex')}`;

/**
 * Pids of processes that belong to a stack: their environment names its table
 * (workers) or their command line names its prefix (`local up`, `run`).
 */
export function stackProcesses(prefix: string): number[] {
  const table = `MR_TABLE=${localResourceNames(prefix).table}`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0');
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'latin1').split('\0');
      const state = /^State:\s+(\w)/m.exec(readFileSync(`/proc/${entry}/status`, 'latin1'))?.[1];
      if (state === 'Z') continue; // exited, waiting for its parent to reap it
      if (environ.includes(table) || (cmdline.includes(BIN) && cmdline.includes(prefix))) pids.push(Number(entry));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

/** The parent pid of a process, from `/proc/<pid>/status`; undefined once it is gone. */
function parentPid(pid: number): number | undefined {
  try {
    const ppid = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'))?.[1];
    return ppid === undefined ? undefined : Number(ppid);
  } catch {
    return undefined;
  }
}

/**
 * The workers of a `local up` process: its own children among the stack's processes. A
 * mapper's child (a streaming executable and what it runs) inherits the worker's
 * environment, so `stackProcesses` lists it too; it is not a worker.
 */
export function stackWorkers(prefix: string, upPid: number): number[] {
  return stackProcesses(prefix).filter((p) => parentPid(p) === upPid);
}

/** Wait until no process of the stack is left; throws (failing the test) with the leftovers otherwise. */
export async function expectNoStackProcesses(prefix: string, timeoutMs = 15_000): Promise<void> {
  const gone = await waitFor(`no process of stack ${prefix}`, () => stackProcesses(prefix).length === 0, {
    timeoutMs,
    intervalMs: 200,
  }).catch(() => false);
  const left = gone ? [] : stackProcesses(prefix);
  if (left.length > 0) {
    const what = left.map((p) => {
      try {
        return `${p}: ${readFileSync(`/proc/${p}/cmdline`, 'latin1').replace(/\0/g, ' ')}`;
      } catch {
        return String(p);
      }
    });
    for (const p of left) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
    throw new Error(`leaked processes of stack ${prefix}:\n${what.join('\n')}`);
  }
}

/** Direct access to a local stack's resources, to seed and inspect state the way users cannot. */
export class StackAccess {
  readonly clients: AwsClients = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
  readonly names: ResourceNames;
  readonly blobs: BlobStore;
  readonly jobs: JobStore;
  readonly tasks: TaskStore;

  constructor(readonly prefix: string) {
    this.names = localResourceNames(prefix);
    this.blobs = new BlobStore(this.clients);
    this.jobs = new JobStore(this.clients, this.names.table);
    this.tasks = new TaskStore(this.clients, this.names.table);
  }

  get bucket(): string {
    return this.names.bucket;
  }

  async readText(key: string): Promise<string> {
    return this.blobs.getText(this.bucket, key);
  }

  /** Poll until `fn` returns a value (not undefined). */
  until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    return waitFor(what, fn, { timeoutMs, intervalMs: 150 });
  }

  /** Wait until the job exists and has ended. */
  finishedJob(jobId: string, timeoutMs = 60_000): Promise<JobRecord> {
    return waitFor(
      `job ${jobId} to end`,
      async () => {
        const j = await this.jobs.get(jobId);
        return j && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : undefined;
      },
      { timeoutMs, intervalMs: 150 },
    );
  }

  close(): void {
    destroyClients(this.clients);
  }
}

/** A `mapreduce local up` child process. */
export class LocalUp {
  private constructor(
    readonly prefix: string,
    readonly env: NodeJS.ProcessEnv,
    readonly child: ChildProcess,
    readonly out: Output,
  ) {}

  /** `globalArgs` go before the command (e.g. `--verbose`, which logs the stack's events to stderr). */
  static async start(prefix: string, env: NodeJS.ProcessEnv, workers = 2, globalArgs: readonly string[] = []): Promise<LocalUp> {
    const child = spawnCli([...globalArgs, 'local', 'up', '--prefix', prefix, '--workers', String(workers)], env);
    const up = new LocalUp(prefix, env, child, new Output(child));
    await up.out.waitFor(/is up/, 90_000);
    return up;
  }

  /** `local down`, then make sure the stack's processes are all gone. */
  async stop(): Promise<CliResult> {
    const down = await cli(['local', 'down', '--prefix', this.prefix], this.env);
    await finished(this.child, this.out, 45_000);
    await expectNoStackProcesses(this.prefix);
    return down;
  }
}
