/**
 * `serverless-mapreduce/job`: the types of map, reduce and combine functions, and
 * `defineJob`, which checks a module's functions against them.
 *
 * ```ts
 * import { defineJob } from 'serverless-mapreduce/job';
 *
 * export default defineJob({
 *   map(line, ctx) {
 *     for (const word of line.split(/\s+/)) if (word) ctx.emit(word, '1');
 *   },
 *   reduce(key, values, ctx) {
 *     let n = 0;
 *     for (const v of values) n += Number(v);
 *     ctx.emit(key, String(n));
 *   },
 * });
 * ```
 *
 * Ship the file as the job's mapper (and reducer/combiner): the worker finds the
 * functions on the default export as well as on named `map`/`reduce`/`combine` exports.
 * This module has no runtime dependencies, so bundling a job module stays small.
 */
export type { CombineFn, MapFn, ReduceFn, StepModule, TaskContext } from '../worker/module-api.js';
import type { CombineFn, MapFn, ReduceFn } from '../worker/module-api.js';

/** The functions of one job module; at least one of them. */
export interface JobDefinition {
  readonly map?: MapFn;
  readonly reduce?: ReduceFn;
  /** Runs on map output before the shuffle; associative, same key out as in, synchronous. */
  readonly combine?: CombineFn;
}

/**
 * Type-check a job module's functions (parameters are inferred, so `line`, `values`
 * and `ctx` need no annotations) and return them unchanged, for `export default`.
 */
export function defineJob<J extends JobDefinition>(job: J): J {
  if (!job || (typeof job.map !== 'function' && typeof job.reduce !== 'function' && typeof job.combine !== 'function')) {
    throw new TypeError('defineJob needs at least one of map, reduce or combine (functions).');
  }
  return job;
}
