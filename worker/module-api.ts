/**
 * The API of JavaScript/TypeScript map, reduce and combine modules.
 *
 * A module step (`"mapper": { "module": "wordcount.mjs" }` in the manifest) is an ES
 * module shipped with the job's `files` (the CLI bundles a `.ts` file to `.mjs`).
 * It exports functions named after their role:
 *
 * ```ts
 * import type { MapFn, ReduceFn } from 'serverless-mapreduce/worker/module-api';
 *
 * export const map: MapFn = (line, ctx) => {
 *   for (const word of line.split(/\s+/)) if (word) ctx.emit(word, '1');
 * };
 * export const reduce: ReduceFn = (key, values, ctx) => {
 *   ctx.emit(key, String(values.reduce((sum, v) => sum + Number(v), 0)));
 * };
 * export const combine = reduce;
 * ```
 *
 * Strings are UTF-8 text (bytes that are not valid UTF-8 read as U+FFFD). Each emitted
 * pair becomes the line `key + '\t' + value`; neither may contain a newline. Functions
 * may be `async`, but synchronous ones are faster. Write output with `ctx.emit`, not
 * `console.log` (stdout belongs to the worker). A module runs inside the worker
 * process: a synchronous endless loop cannot be interrupted, it only ends when the
 * worker's lease runs out and the task is given to another worker.
 */
import { TaskFailedError } from '../core/errors.js';
import { type StepContext, tailLines } from './step-runner.js';

/** What user code may do and know while it runs. */
export interface TaskContext {
  /** Output one record: the line `key + '\t' + value`. Throws if either contains '\n'. */
  emit(key: string, value: string): void;
  /** Add `amount` (default 1) to a user counter, shown with the job's counters. */
  counter(group: string, name: string, amount?: number): void;
  /** Set the task's status message (the last one is shown by `mapreduce status`). */
  status(message: string): void;
  readonly jobId: string;
  readonly taskId: string;
  /** `s3://bucket/key` of the input object of a map task. */
  readonly inputFile?: string;
  /** The task's environment: job and task facts plus the manifest's `env`. */
  readonly env: Readonly<Record<string, string>>;
}

/** Called once per input line (without its '\n'). */
export type MapFn = (line: string, ctx: TaskContext) => void | Promise<void>;

/**
 * Called once per key, with all the values of that key (the whole group, in the order
 * the shuffle delivered them). Keys arrive in byte order.
 */
export type ReduceFn = (key: string, values: string[], ctx: TaskContext) => void | Promise<void>;

/**
 * Same shape as a reducer; runs on map output before the shuffle, possibly several
 * times per key, so it must be associative and emit the same key. When it runs in the
 * map-side sort buffer it must be synchronous (not `async`).
 */
export type CombineFn = ReduceFn;

/** The exports a module step looks for. */
export interface StepModule {
  readonly map?: MapFn;
  readonly reduce?: ReduceFn;
  readonly combine?: CombineFn;
}

// ---------------------------------------------------------------------------
// Framework side (not for user code): string conversion between latin1 records
// and UTF-8 text, and the TaskContext implementation.
// ---------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex -- matching the ASCII range on purpose
export const ASCII = /^[\x00-\x7f]*$/;
// eslint-disable-next-line no-control-regex -- ASCII without '\n'
const ASCII_NO_NEWLINE = /^[\x00-\x09\x0b-\x7f]*$/;

/** A latin1 record (one char per byte) as UTF-8 text for user code; pure ASCII is returned as is. */
export function latin1ToText(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'latin1').toString('utf8');
}

/** User text back to a latin1 record; pure ASCII is returned as is. */
export function textToLatin1(s: string): string {
  return ASCII.test(s) ? s : Buffer.from(s, 'utf8').toString('latin1');
}

/** True when `s` is ASCII without '\n' (a short loop beats a regex call on short strings). */
export function isPlain(s: string): boolean {
  const n = s.length;
  if (n > 24) return ASCII_NO_NEWLINE.test(s);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f || c === 0x0a) return false;
  }
  return true;
}

/**
 * The latin1 line `key + '\t' + value` for an emitted pair (just `key` when `value` is
 * undefined; non-strings are converted with String()); throws TypeError on a newline.
 */
export function encodeRecord(key: string, value: string): string {
  if (typeof key === 'string' && typeof value === 'string' && isPlain(key) && isPlain(value)) {
    return `${key}\t${value}`;
  }
  const line = value === undefined ? String(key) : `${key}\t${value}`;
  if (line.includes('\n')) {
    throw new TypeError(`emit(): key and value must not contain a newline (key ${JSON.stringify(String(key))})`);
  }
  return textToLatin1(line);
}

/** @internal The TaskContext given to user code; `emit` should store `encodeRecord(key, value)`. */
export function taskContext(
  ctx: Pick<StepContext, 'env' | 'onCounter' | 'onStatus'>,
  emit: (key: string, value: string) => void,
): TaskContext {
  return {
    emit,
    counter: (group, name, amount = 1) => ctx.onCounter(group, name, amount),
    status: (message) => ctx.onStatus(message),
    jobId: ctx.env.MR_JOB_ID ?? '',
    taskId: ctx.env.MR_TASK_ID ?? '',
    inputFile: ctx.env.MR_INPUT_FILE,
    env: ctx.env,
  };
}

export function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== undefined && r !== null && typeof (r as { then?: unknown }).then === 'function';
}

export function userError(what: string, err: unknown): TaskFailedError {
  if (err instanceof TaskFailedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error ? (err.stack ?? message) : String(err);
  return new TaskFailedError(`${what} threw: ${message}`, tailLines(stack), { cause: err });
}

/** Decode a group's latin1 values for user code, copying only when one is not ASCII. */
export function decodeValues(values: string[]): string[] {
  let out: string[] | undefined;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (ASCII.test(v)) {
      if (out !== undefined) out.push(v);
    } else {
      out ??= values.slice(0, i);
      out.push(Buffer.from(v, 'latin1').toString('utf8'));
    }
  }
  return out ?? values;
}
