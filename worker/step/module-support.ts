/**
 * The framework side of module steps: loading a shipped module's function, the
 * TaskContext user code gets, failures of user code, and the group combiner the
 * map-side sorter calls. The public types are in `worker/module-api.ts`.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PoisonTaskError, TaskFailedError } from '../../core/errors.js';
import type { CombineFn, MapFn, ReduceFn, TaskContext } from '../module-api.js';
import { decodeValues, encodeRecord, latin1ToText, tailLines } from './text.js';
import { roleNoun, type StepContext, type StepRole } from './types.js';

/**
 * Import a shipped module (path relative to `workDir`, or absolute) and return its export
 * named after `role` (a named export, or a property of the default export). Throws
 * PoisonTaskError when the file is missing, cannot be loaded, or lacks the export.
 */
export async function loadModuleFunction<R extends StepRole>(
  workDir: string,
  modulePath: string,
  role: R,
): Promise<R extends 'map' ? MapFn : ReduceFn> {
  const noun = `${roleNoun(role)} module "${modulePath}"`;
  const file = resolve(workDir, modulePath);
  const found = await stat(file).then(
    (s) => s.isFile(),
    () => false,
  );
  if (!found) throw new PoisonTaskError(`${noun} not found in the job's files: ship it with "files"`, '');
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (err) {
    const e = (err instanceof Error ? err : new Error(String(err))) as NodeJS.ErrnoException;
    const syntax = e.name === 'SyntaxError';
    const hint = syntax && /\.js$/.test(file) ? ' (an ES module must be named .mjs)' : '';
    const Cls =
      syntax || (e.code !== undefined && /^ERR_(MODULE_NOT_FOUND|UNKNOWN_FILE_EXTENSION|REQUIRE_ESM)/.test(e.code))
        ? PoisonTaskError
        : TaskFailedError;
    throw new Cls(`${noun} could not be loaded${hint}: ${e.message}`, tailLines(String(e.stack ?? e)), { cause: err });
  }
  const def = mod.default as Record<string, unknown> | undefined;
  const fn = mod[role] ?? (def !== null && typeof def === 'object' ? def[role] : undefined);
  if (typeof fn !== 'function') {
    const names = Object.keys(mod).filter((k) => typeof mod[k] === 'function');
    const hint =
      role === 'combine' && typeof mod.reduce === 'function'
        ? ' (to reuse the reducer: export const combine = reduce)'
        : '';
    throw new PoisonTaskError(
      `${noun} has no "${role}" export${hint}; it exports: ${names.length > 0 ? names.join(', ') : 'no functions'}`,
      '',
    );
  }
  return fn as R extends 'map' ? MapFn : ReduceFn;
}

/** The TaskContext given to user code; `emit` should store `encodeRecord(key, value)`. */
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

/** True for a promise or any object with a `then` method (what `await` would wait on). */
export function isThenable(r: unknown): r is PromiseLike<unknown> {
  return r !== undefined && r !== null && typeof (r as { then?: unknown }).then === 'function';
}

/** An exception thrown by user code as the TaskFailedError that fails the attempt (with its stack's tail). */
export function userError(what: string, err: unknown): TaskFailedError {
  if (err instanceof TaskFailedError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const stack = err instanceof Error ? (err.stack ?? message) : String(err);
  return new TaskFailedError(`${what} threw: ${message}`, tailLines(stack), { cause: err });
}

/** Context of a combiner run inside the map-side sort buffer. */
export type CombinerContext = Pick<StepContext, 'env' | 'onCounter' | 'onStatus'>;

/**
 * Wrap a module's `combine` for the map-side sorter: `(key, values)` with the latin1 key
 * and latin1 values of one group, returning the emitted full latin1 lines. The combiner
 * must be synchronous here; a returned promise fails the attempt (TaskFailedError), as
 * does an exception.
 */
export function groupCombinerFromModule(
  fn: CombineFn,
  ctx: CombinerContext,
): (key: string, values: string[], ascii?: boolean) => string[] {
  let out: string[] = [];
  const tc = taskContext(ctx, (key, value) => {
    out.push(encodeRecord(key, value));
  });
  return (key, values, ascii) => {
    out = [];
    let r: unknown;
    try {
      // ASCII (the map-side aggregator's checked pairs): latin1 is the text already, no regex per key and value.
      r = ascii === true ? fn(key, values, tc) : fn(latin1ToText(key), decodeValues(values), tc);
    } catch (err) {
      throw userError('combiner', err);
    }
    if (isThenable(r)) {
      r.then(undefined, () => {});
      throw new TaskFailedError('combiner returned a promise: a combiner must be synchronous (not async)', '');
    }
    return out;
  };
}

