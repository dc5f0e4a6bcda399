/**
 * Process-level CLI test helpers: run the real `mapreduce` binary (bin/ → dist/)
 * with a controlled environment, start and stop a long-lived `local up` stack,
 * and check that no process of a stack is left running.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BlobStore } from '../../aws/blob-store.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { JobStore } from '../../aws/job-store.js';
import { TaskStore } from '../../aws/task-store.js';
import type { JobRecord } from '../../core/model.js';
import { localResourceNames, type ResourceNames } from '../../core/resources.js';
import { ENDPOINT, REPO } from './stack.js';

export const BIN = path.join(REPO, 'bin', 'mapreduce.js');
export const example = (p: string) => path.join(REPO, 'examples', p);

/** A unique stack prefix for one test file: `cli-<name>-<random>`. */
export const uniquePrefix = (name: string) => `cli-${name}-${randomBytes(3).toString('hex')}`;

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment of a CLI run: emulator, test credentials, short intervals, a private state dir. */
export function cliEnv(stateDir: string, extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_ENDPOINT_URL: ENDPOINT,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    MR_STATE_DIR: stateDir,
    MR_HEARTBEAT_MS: '200',
    // A 5 s lease: a heartbeat delayed by a busy 2-core machine must not lose a task.
    MR_MISSED_HEARTBEATS: '25',
    MR_CHECKER_INTERVAL_MS: '250',
    MR_POLL_WAIT_SECONDS: '1',
    MR_RETRY_BASE_MS: '100',
    ...extra,
  };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete env[k];
  return env;
}

/** Start the CLI as a child process (stdout/stderr are pipes, so not TTYs). */
export function spawnCli(args: readonly string[], env: NodeJS.ProcessEnv, cwd = REPO): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Text collected so far from a child, and a wait for a pattern in it. */
export class Output {
  stdout = '';
  stderr = '';
  constructor(readonly child: ChildProcess) {
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      this.stdout += d;
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      this.stderr += d;
    });
  }

  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!re.test(this.stdout) && !re.test(this.stderr)) {
      if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${re}:\n${this.all()}`);
      if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms:\n${this.all()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  all(): string {
    return `--- stdout\n${this.stdout}\n--- stderr\n${this.stderr}`;
  }
}

/** Wait for a child to exit (SIGKILL after timeoutMs) and return what it printed. */
export function finished(child: ChildProcess, out: Output = new Output(child), timeoutMs = 150_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI did not finish within ${timeoutMs} ms:\n${out.all()}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      resolve({ code: child.exitCode, signal: child.signalCode, stdout: out.stdout, stderr: out.stderr });
    };
    if (child.exitCode !== null || child.signalCode !== null) done();
    else child.once('close', done);
  });
}

/** Run `mapreduce <args>` to completion. */
export function cli(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  o: { cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  const child = spawnCli(args, env, o.cwd);
  return finished(child, new Output(child), o.timeoutMs);
}

/** A CLI message must never show a stack trace. */
export const STACK_LINE = /^\s+at .+[:(]/m;

/** A scratch directory with helpers to write inputs and executable scripts. */
export class Scratch {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'mr-cli-'));

  path(...p: string[]): string {
    return path.join(this.dir, ...p);
  }

  file(rel: string, content: string | Buffer): string {
    const p = this.path(rel);
    mkdirSync(path.dirname(p), { recursive: true });
    writeFileSync(p, content);
    return p;
  }

  mkdir(rel: string): string {
    const p = this.path(rel);
    mkdirSync(p, { recursive: true });
    return p;
  }

  script(rel: string, body: string, executable = true): string {
    const p = this.file(rel, `#!/bin/sh\n${body}\n`);
    chmodSync(p, executable ? 0o755 : 0o644);
    return p;
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A port nothing listens on (for "no local stack running"). */
export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

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

/** Wait until no process of the stack is left; throws (failing the test) with the leftovers otherwise. */
export async function expectNoStackProcesses(prefix: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let left = stackProcesses(prefix);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    left = stackProcesses(prefix);
  }
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
  async until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  }

  /** Wait until the job exists and has ended. */
  finishedJob(jobId: string, timeoutMs = 60_000): Promise<JobRecord> {
    return this.until(
      `job ${jobId} to end`,
      async () => {
        const j = await this.jobs.get(jobId);
        return j && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : undefined;
      },
      timeoutMs,
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

  static async start(prefix: string, env: NodeJS.ProcessEnv, workers = 2): Promise<LocalUp> {
    const child = spawnCli(['local', 'up', '--prefix', prefix, '--workers', String(workers)], env);
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
