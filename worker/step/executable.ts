/**
 * Hadoop-Streaming executables: the command line is split into argv (no shell),
 * input lines go to stdin, stdout lines are the output, and `reporter:` lines on
 * stderr update counters and status. See `worker/step/index.ts` for the contract.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { finished } from 'node:stream/promises';
import { programLabel, splitCommandLine } from '../../core/argv.js';
import { deferred } from '../../core/concurrency.js';
import { PoisonTaskError } from '../../core/errors.js';
import { childEnv } from './child-env.js';
import { resolveProgram, StderrCapture, StdoutSplitter } from './executable-support.js';
import { exitError, type KillReason, spawnError } from './exit-status.js';
import { OutputChannel } from './output-channel.js';
import { type RunningStep, roleNoun, type StepContext, type StepResult } from './types.js';

/**
 * Start a Hadoop-Streaming executable for one attempt. The first word of `command`
 * is a file shipped into `ctx.workDir` (run as `./name`), a path relative to it, or
 * a program on PATH. Rejects with PoisonTaskError when it is missing or not executable.
 */
export async function startExecutableStep(command: string, ctx: StepContext): Promise<RunningStep> {
  const noun = roleNoun(ctx.role);
  let argv: string[];
  try {
    argv = splitCommandLine(command);
  } catch (err) {
    throw new PoisonTaskError(`${noun} command line is invalid: ${(err as Error).message}`, '', { cause: err });
  }
  const env = childEnv(ctx.env);
  const program = await resolveProgram(argv[0]!, ctx.workDir, env.PATH, noun);
  ctx.signal?.throwIfAborted();
  const child = spawn(program, argv.slice(1), {
    shell: false,
    cwd: ctx.workDir,
    env,
    argv0: argv[0],
    detached: true, // own process group: a kill reaches the script's children too
    stdio: ['pipe', 'pipe', 'pipe'],
    windowsHide: true,
  });
  return new ExecutableRun(child, programLabel(argv), noun, ctx).step();
}

class ExecutableRun {
  /** Line batches, or Buffers of whole lines once `byteOutput()` was called (never both). */
  private readonly channel = new OutputChannel<string[] | Buffer>();
  /** stdout as line batches, or as blocks of whole lines once byteOutput() was called. */
  private readonly stdout = new StdoutSplitter();
  private readonly stderr: StderrCapture;
  private lastProgress = Date.now();
  private inputEnded = false;
  private stdinClosed = false;
  private blockedWrites = 0;
  /** True from a turn's first stdin write until its `uncork` (see `send`). */
  private corked = false;
  private writers: (() => void)[] = [];
  private outputPaused = false;
  /** Why we killed the process (timeout, abort, spawn error); wins over its exit status. */
  private killReason: KillReason | undefined;
  private exited = false;
  private finished = false;
  /** Whatever the step failed with, rethrown as is (`as unknown` where a check narrowed it). */
  private error: unknown;
  private settled = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.abort();
  private readonly done = deferred<StepResult>();

  constructor(
    private readonly child: ChildProcess,
    private readonly name: string,
    private readonly noun: string,
    private readonly ctx: StepContext,
  ) {
    this.done.promise.catch(() => {});
    this.stderr = new StderrCapture(
      ctx.stderrLimitBytes ?? 8 * 1024 * 1024,
      ctx.onCounter,
      ctx.onStatus,
      () => this.progress(),
      ctx.onStderr,
    );
    const period = Math.max(20, Math.min(1000, ctx.noProgressTimeoutMs / 5));
    this.timer = setInterval(() => this.checkProgress(), period);
    this.timer.unref();
    ctx.signal?.addEventListener('abort', this.onAbort, { once: true });

    const { stdin, stdout, stderr } = child;
    stdin!.on('error', () => this.closeStdin()); // EPIPE: the process stopped reading; its exit code decides
    stdin!.on('close', () => this.closeStdin());
    stdin!.on('drain', () => {
      this.progress();
      this.releaseWriters();
    });
    stdout!.on('data', (chunk: Buffer) => this.onStdout(chunk));
    stdout!.on('end', () => {
      for (const block of this.stdout.end()) this.channel.push(block);
    });
    stderr!.on('data', (chunk: Buffer) => this.stderr.write(chunk));
    child.on('error', (err) => {
      this.killReason ??= { kind: 'error', error: spawnError(this.noun, this.name, err as NodeJS.ErrnoException) };
      if (child.pid === undefined) this.finish(null, null);
    });
    child.on('exit', () => {
      this.exited = true;
      this.killGroup(); // leftover background children must not outlive the attempt
    });
    child.on('close', (code, signal) => this.finish(code, signal));
  }

  step(): RunningStep {
    return {
      write: (lines) => this.write(lines),
      writeBytes: (bytes) => this.writeBytes(bytes),
      end: () => this.end(),
      // Only string batches are pushed unless byteOutput() was called.
      output: this.channel as AsyncIterable<string[]>,
      byteOutput: () => {
        this.stdout.wholeLineBlocks();
        return this.channel as AsyncIterable<Buffer>;
      },
      done: this.done.promise,
      pid: this.child.pid,
    };
  }

  private async write(lines: string[]): Promise<void> {
    if (this.settled && this.error !== undefined) throw this.error as unknown;
    if (this.inputEnded) throw new Error('RunningStep.write() called after end()');
    if (this.stdinClosed || lines.length === 0) return;
    // join() of lines + '' ends the text with its '\n' in one flat string; appending '\n'
    // afterwards would make a rope the pipe write flattens first: a second copy of the batch.
    lines.push('');
    const text = lines.join('\n');
    lines.pop();
    await this.send(text);
  }

  /** Whole lines as bytes (the reduce side's merge output): straight to stdin, no decode. */
  private async writeBytes(bytes: Buffer): Promise<void> {
    if (this.settled && this.error !== undefined) throw this.error as unknown;
    if (this.inputEnded) throw new Error('RunningStep.writeBytes() called after end()');
    if (this.stdinClosed || bytes.length === 0) return;
    await this.send(bytes);
  }

  private async send(chunk: string | Buffer): Promise<void> {
    this.lastProgress = Date.now();
    const stdin = this.child.stdin!;
    // Writes of one turn go to the pipe as one writev: a split's line that spans two fetched
    // chunks comes as a small block of its own just before the rest of its chunk, and
    // written alone it cost the mapper a read of 1-2 KiB (half its stdin writes). No copy.
    if (!this.corked) {
      this.corked = true;
      stdin.cork();
      process.nextTick(() => {
        this.corked = false;
        stdin.uncork();
      });
    }
    const ok = stdin.write(chunk, 'latin1', () => this.progress());
    if (ok) return;
    this.blockedWrites++;
    try {
      await new Promise<void>((res) => this.writers.push(res));
    } finally {
      this.blockedWrites--;
    }
    if (this.settled && this.error !== undefined) throw this.error as unknown;
  }

  private async end(): Promise<void> {
    if (this.settled && this.error !== undefined) throw this.error as unknown;
    if (this.inputEnded) return;
    this.inputEnded = true;
    this.lastProgress = Date.now();
    if (this.stdinClosed) return;
    const stdin = this.child.stdin!;
    stdin.end();
    await finished(stdin).catch(() => {});
  }

  private onStdout(chunk: Buffer): void {
    this.progress();
    for (const block of this.stdout.push(chunk)) this.channel.push(block);
    if (this.channel.full && !this.outputPaused) {
      this.outputPaused = true;
      this.child.stdout!.pause();
      void this.channel.room().then(() => {
        this.outputPaused = false;
        this.child.stdout!.resume();
      });
    }
  }

  private progress(): void {
    this.lastProgress = Date.now();
  }

  private checkProgress(): void {
    const now = Date.now();
    // The clock runs only while the process owes us something: input is waiting to be
    // read (blocked write, or end() was called) and its output is being drained.
    const clockRuns = (this.inputEnded || this.blockedWrites > 0 || this.exited) && !this.outputPaused;
    if (!clockRuns) {
      this.lastProgress = now;
    } else if (this.exited) {
      // Exited, but a descendant that left the process group still holds stdout/stderr open.
      if (now - this.lastProgress > this.ctx.noProgressTimeoutMs) {
        this.child.stdout!.destroy();
        this.child.stderr!.destroy();
      }
    } else if (now - this.lastProgress > this.ctx.noProgressTimeoutMs && this.killReason === undefined) {
      this.killReason = { kind: 'timeout' };
      this.killGroup();
    }
  }

  private abort(): void {
    const reason: unknown = this.ctx.signal?.reason ?? new Error('aborted');
    if (this.finished) {
      this.settle(reason); // exited, but its output was not drained yet
      return;
    }
    this.killReason ??= { kind: 'error', error: reason };
    this.channel.fail(reason); // also unblocks a paused stdout so the pipes can close
    this.killGroup();
  }

  private closeStdin(): void {
    this.stdinClosed = true;
    this.releaseWriters();
  }

  private releaseWriters(): void {
    const ws = this.writers;
    this.writers = [];
    for (const w of ws) w();
  }

  private killGroup(): void {
    const pid = this.child.pid;
    if (pid === undefined) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
    }
  }

  private finish(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.timer);
    this.closeStdin();
    const { stderr, stderrTail } = this.stderr.finish();
    const err = exitError({
      noun: this.noun,
      name: this.name,
      code,
      signal,
      killReason: this.killReason,
      noProgressTimeoutMs: this.ctx.noProgressTimeoutMs,
      nonZeroExitIsFailure: this.ctx.nonZeroExitIsFailure,
      stderrTail,
    });
    if (err !== undefined) {
      this.settle(err);
      return;
    }
    this.channel.close();
    void this.channel.drained.then(() => this.settle(undefined, { stderr, stderrTail }));
  }

  private settle(err: unknown, result?: StepResult): void {
    if (this.settled) return;
    this.settled = true;
    this.ctx.signal?.removeEventListener('abort', this.onAbort);
    this.releaseWriters();
    if (result !== undefined) {
      this.done.resolve(result);
      return;
    }
    this.error = err;
    this.channel.fail(err);
    this.done.reject(err);
  }
}
