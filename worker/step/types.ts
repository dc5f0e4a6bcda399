/**
 * The contract between the worker and a running step (a mapper, reducer or combiner):
 * what a step is given (`StepContext`) and what it offers (`RunningStep`). Types only,
 * plus `roleNoun`; the runners are `executable.ts` and `module.ts`, chosen by `index.ts`.
 */
import type { LineIndex } from '../../core/merge-line-index.js';

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
  /** Each piece of stderr kept for the log, as it comes (the running attempt's live log). Executables only. */
  readonly onStderr?: (bytes: Buffer) => void;
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
  /**
   * Feed whole '\n'-ended lines as bytes, the same as `write` of those lines. Only steps
   * that read bytes themselves have it (an executable's stdin, the identity `cat`, a module
   * reducer or combiner: ./byte-groups.ts); for the others the caller decodes the lines
   * (worker/pump.ts). The step may hold on to the buffer after the promise resolves (an
   * executable's queued stdin write, the identity's output), so the caller must not reuse
   * it; a module step keeps no reference to it once it resolves.
   *
   * `index`, for `lines` lines, is where the merge found each line's key and '\n' and which
   * lines start a group (core/merge-line-index.ts): a module reducer or combiner then reads its
   * groups without scanning the bytes again (and keeps no reference to the index either); the
   * other steps ignore it.
   */
  writeBytes?(bytes: Buffer, index?: LineIndex, lines?: number): Promise<void>;
  /** No more input. */
  end(): Promise<void>;
  /**
   * Output line batches (latin1), in the order produced. Iterate it once. Leaving the loop
   * early (`break`) discards the rest of the output but does not stop the step.
   */
  readonly output: AsyncIterable<string[]>;
  /**
   * The same output as whole '\n'-ended lines in Buffers (a last line without '\n' gets
   * one), for a caller that keeps records as bytes (the map-side sort). Call it instead of
   * reading `output`, before any output is read; then read only what it returns. Only steps
   * whose output is bytes already have it (an executable's stdout, the identity `cat`).
   */
  byteOutput?(): AsyncIterable<Buffer>;
  /**
   * The same output as blocks of whole '\n'-ended latin1 lines with their record counts, for
   * a caller that writes bytes (the reduce task's part). Call it instead of reading `output`,
   * before any input is written; then read only what it returns. Module reducers and
   * combiners have it: they write emitted records straight into the blocks.
   */
  recordOutput?(): AsyncIterable<RecordBatch>;
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

/** Output lines as bytes (`RunningStep.recordOutput`). */
export interface RecordBatch {
  /** Whole '\n'-ended latin1 lines. */
  readonly bytes: Buffer;
  /** How many lines (records) `bytes` holds. */
  readonly length: number;
}

/** "mapper", "reducer" or "combiner": how messages name a role. */
export function roleNoun(role: StepRole): string {
  return role === 'map' ? 'mapper' : role === 'reduce' ? 'reducer' : 'combiner';
}

