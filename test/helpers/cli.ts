/**
 * Process-level CLI test helpers: run the real `mapreduce` binary (bin/ → dist/) with a
 * controlled environment, collect and wait on its output, and scratch directories with
 * inputs and executable scripts. `local up` stacks and their processes: local-up.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ENDPOINT, REPO } from './stack.js';
import { waitFor } from './wait.js';

export const BIN = path.join(REPO, 'bin', 'mapreduce.js');

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

  /** Wait until stdout or stderr matches `re`; throws if the process exits first. */
  async waitFor(re: RegExp, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${re} in the output`,
      () => {
        if (re.test(this.stdout) || re.test(this.stderr)) return true;
        if (this.child.exitCode !== null) throw new Error(`exited (${this.child.exitCode}) before ${re}:\n${this.all()}`);
        return undefined;
      },
      { timeoutMs, detail: () => this.all() },
    );
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

/** Run `mapreduce <args>` to completion (killed, and the promise rejected, after `timeoutMs`). */
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
