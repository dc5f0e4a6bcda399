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
 *   let sum = 0;
 *   for (const v of values) sum += Number(v); // values: an iterable, streamed
 *   ctx.emit(key, String(sum));
 * };
 * export const combine = reduce;
 * ```
 *
 * Strings are UTF-8 text (bytes that are not valid UTF-8 read as U+FFFD). Each emitted
 * pair becomes the line `key + '\t' + value`; neither may contain a newline. Functions
 * may be `async`, but synchronous ones are faster. Write output with `ctx.emit`, not
 * `console.log` (stdout belongs to the worker). A module runs inside the worker
 * process, on its main thread: while a synchronous call blocks it, the worker's lease
 * keeper thread (worker/lease-keeper.ts) keeps the attempt's lease, for at most the task
 * timeout (`taskTimeoutSeconds`, mapreduce.task.timeout; 10 min by default). A call
 * blocking longer (an endless loop) cannot be interrupted: the lease then runs out and
 * the task is given to another worker, as Hadoop kills a task silent for that long.
 */

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
 * Called once per key with the values of that key, in the order the shuffle delivered
 * them. Keys arrive in byte order. `values` can be iterated ONCE, with `for...of` (or
 * `for await...of` in an async reducer):
 *
 * ```ts
 * export const reduce: ReduceFn = (key, values, ctx) => {
 *   let sum = 0;
 *   for (const v of values) sum += Number(v);
 *   ctx.emit(key, String(sum));
 * };
 * ```
 *
 * A group of any size reduces in bounded memory: past a few MiB of values the group is
 * staged to local disk and `values` reads it back in pieces. A small group happens to
 * be passed as an array, so reducers written for `values: string[]` keep working on
 * small groups; on a large group, array members (`length`, `reduce`, `join`, `[i]`...)
 * fail the task with a message saying to iterate instead. Use `[...values]` only when
 * the group is known to be small. A sync loop holds the worker's event loop for the
 * whole group; the lease keeper thread keeps the attempt's lease meanwhile (up to the task
 * timeout), so a sync reducer over a group that takes longer than a lease still commits.
 * For groups that may be huge, `async` with `for await` is still better: a staged group
 * is then read with async reads, and progress, job checks and cancellation run between pieces.
 */
export type ReduceFn = (key: string, values: Iterable<string>, ctx: TaskContext) => void | Promise<void>;

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
