/**
 * How a worker runs user code for one task attempt: one interface over
 * Hadoop-Streaming executables (`worker/executable.ts`) and in-process
 * JavaScript modules (`worker/module-step.ts`).
 *
 * Usage: feed input and drain output concurrently, then await `done`.
 * ```ts
 * const step = await startStep(manifest.mapper, ctx);
 * const drained = (async () => { for await (const batch of step.output) sink(batch); })();
 * for await (const batch of input) await step.write(batch);
 * await step.end();
 * await drained;
 * const { stderr } = await step.done;
 * ```
 * If the step fails, `done` and the `output` iterator reject with the same error, and
 * so do `write`/`end` calls made after the failure is known (a write to a process
 * that already exited just discards the input). `done` never causes an unhandled
 * rejection on its own.
 */
import type { Step } from '../core/manifest.js';
import { startExecutableStep } from './executable.js';
import { startModuleStep } from './module-step.js';

/** Which function of the job the step plays. */
export type StepRole = 'map' | 'reduce' | 'combine';

/** Everything a step needs from the worker for one attempt. */
export interface StepContext {
  readonly role: StepRole;
  /** Per-attempt temp dir, cwd of executables; shipped files are already downloaded here. */
  readonly workDir: string;
  /**
   * Job/task facts (MR_JOB_ID, MR_TASK_ID, MR_ATTEMPT, MR_INPUT_FILE, Hadoop's
   * `map_input_file`...) and the manifest's `env`. Executables get these
   * merged over a minimal base environment (PATH, HOME, TMPDIR of the worker). Never logged.
   */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Kill the attempt when it makes no progress for this long: no input consumed, no
   * output produced, no `reporter:` line. The clock does not run while the step is
   * waiting on the worker (idle stdin that is still open, output not being drained).
   */
  readonly noProgressTimeoutMs: number;
  /** False: a non-zero exit code is not a failure (Hadoop's stream.non.zero.exit.is.failure=false). Default true. */
  readonly nonZeroExitIsFailure?: boolean;
  /** Bytes of stderr kept for the log (default 8 MiB); beyond that the head and the tail are kept. */
  readonly stderrLimitBytes?: number;
  /** User counters (`reporter:counter:` lines, `ctx.counter`). */
  readonly onCounter: (group: string, name: string, amount: number) => void;
  /** User status (`reporter:status:` lines, `ctx.status`). */
  readonly onStatus: (message: string) => void;
  /** Abort = kill the attempt (lease lost, cancel, SIGTERM); `done` rejects with `signal.reason`. */
  readonly signal?: AbortSignal;
  /**
   * Module mappers only: emitted pairs go to this sink instead of becoming output lines
   * (map-side aggregation, see `RepeatAggregator`). Executables ignore it.
   */
  readonly pairs?: PairSink;
}

/** Takes the `(key, value)` pairs a module step emits, in place of its output lines. */
export interface PairSink {
  /** Take one pair; validates and encodes it like `encodeRecord` (throws on a newline). */
  emit(key: string, value: string): void;
  /** True when the held pairs must be handed on (`flush`) before more are emitted. */
  readonly full: boolean;
  flush(): Promise<void>;
}

/** What a successful step leaves behind. */
export interface StepResult {
  /** Captured stderr without `reporter:` lines (bounded, see `stderrLimitBytes`). Empty for modules. */
  readonly stderr: Buffer;
  /** The last ~20 lines of stderr, decoded as UTF-8, for failure reasons and logs. */
  readonly stderrTail: string;
}

/** A running step. Output must be consumed while input is written, or both stall (backpressure). */
export interface RunningStep {
  /** Feed input batches (latin1 lines, no '\n'); resolves when the step has accepted them (backpressure). */
  write(lines: string[]): Promise<void>;
  /** No more input. */
  end(): Promise<void>;
  /**
   * Output line batches (latin1), in the order produced. Iterate it once. Leaving the loop
   * early (`break`) discards the rest of the output but does not stop the step.
   */
  readonly output: AsyncIterable<string[]>;
  /**
   * Resolves when the step finished successfully and its output was drained; rejects with
   * TaskFailedError (non-zero exit, crash, signal, no-progress timeout, exception in module
   * code), PoisonTaskError (executable not found / not executable / module has no such
   * export: can never succeed), or the abort reason.
   */
  readonly done: Promise<StepResult>;
  /** OS process id of an executable step (its process group id too); undefined for modules. */
  readonly pid?: number;
}

/**
 * Start a mapper, reducer or combiner for one attempt: a command line string runs as a
 * Hadoop-Streaming executable, `{ module }` runs the module's `map`/`reduce`/`combine`
 * export in-process. Rejects with PoisonTaskError when the program or export is missing.
 */
export function startStep(step: Step, ctx: StepContext): Promise<RunningStep> {
  return typeof step === 'string' ? startExecutableStep(step, ctx) : startModuleStep(step.module, ctx);
}

/** "mapper", "reducer" or "combiner": how messages name a role. */
export function roleNoun(role: StepRole): string {
  return role === 'map' ? 'mapper' : role === 'reduce' ? 'reducer' : 'combiner';
}

/** The worker's PATH, HOME and TMPDIR (when set): the only variables a step inherits. */
export function baseEnv(from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR'] as const) {
    const v = from[name];
    if (v !== undefined) env[name] = v;
  }
  return env;
}

const HIGH_WATER_BATCHES = 8;

/**
 * The queue behind `RunningStep.output`: the producer pushes batches, one consumer
 * iterates. `full` tells the producer to pause; `room()` resolves when it may resume.
 * @internal shared by the executable and module runners.
 */
export class OutputChannel implements AsyncIterable<string[]> {
  private readonly queue: string[][] = [];
  private head = 0;
  private closed = false;
  private error: unknown;
  private failed = false;
  private discarding = false;
  private wakeConsumer: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  private drainedResolve!: () => void;
  /** Resolves once the channel is closed and every batch was taken (or discarded). */
  readonly drained: Promise<void> = new Promise((resolve) => {
    this.drainedResolve = resolve;
  });

  /** True when the producer should wait for `room()` before pushing more. */
  get full(): boolean {
    return this.queue.length - this.head >= HIGH_WATER_BATCHES && !this.discarding && !this.failed;
  }

  push(batch: string[]): void {
    if (this.closed || this.discarding || batch.length === 0) return;
    this.queue.push(batch);
    this.wake();
  }

  /** Resolves when the consumer has made room (or stopped consuming, or the channel failed). */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** No more batches: the consumer ends after the queued ones. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.checkDrained();
  }

  /** The consumer's next() throws `err` (queued batches are dropped). */
  fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.error = err;
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    this.wake();
    this.releaseRoom();
  }

  private wake(): void {
    const w = this.wakeConsumer;
    this.wakeConsumer = undefined;
    w?.();
  }

  private releaseRoom(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  private checkDrained(): void {
    if (this.closed && this.head >= this.queue.length) this.drainedResolve();
  }

  private take(): string[] | undefined {
    if (this.head >= this.queue.length) return undefined;
    const batch = this.queue[this.head]!;
    this.queue[this.head++] = [];
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (!this.full) this.releaseRoom();
    this.checkDrained();
    return batch;
  }

  [Symbol.asyncIterator](): AsyncIterator<string[]> {
    return {
      next: async (): Promise<IteratorResult<string[]>> => {
        for (;;) {
          if (this.failed) throw this.error;
          const batch = this.take();
          if (batch !== undefined) return { value: batch, done: false };
          if (this.closed) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            this.wakeConsumer = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<string[]>> => {
        this.discarding = true;
        this.queue.length = 0;
        this.head = 0;
        this.releaseRoom();
        this.drainedResolve();
        return { value: undefined, done: true };
      },
    };
  }
}

/** The last `maxLines` lines of `text` (at most `maxChars` characters), without a trailing newline. */
export function tailLines(text: string, maxLines = 20, maxChars = 4096): string {
  let s = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (s.length > maxChars) s = s.slice(s.length - maxChars);
  let idx = s.length;
  for (let k = 0; k < maxLines; k++) {
    const nl = idx > 0 ? s.lastIndexOf('\n', idx - 1) : -1;
    if (nl < 0) return s;
    idx = nl;
  }
  return s.slice(idx + 1);
}
