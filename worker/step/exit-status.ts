/**
 * How an executable step's end becomes its attempt's outcome (worker/step/executable.ts):
 * why we killed it wins over its exit status; a non-zero exit or a signal fails the
 * attempt (Hadoop Streaming's `stream.non.zero.exit.is.failure`, on by default); a program
 * that cannot be started is a poison task when retrying cannot help.
 */
import { PoisonTaskError, TaskFailedError } from '../../core/errors.js';
import { tailLines } from './text.js';

/** Why the worker killed the process (timeout, abort, spawn error), if it did. */
export type KillReason = { readonly kind: 'timeout' } | { readonly kind: 'error'; readonly error: unknown };

/** What is known when the process's pipes have closed. */
export interface StepExit {
  /** "mapper", "reducer", … (roleNoun). */
  readonly noun: string;
  /** The program's label for messages (programLabel). */
  readonly name: string;
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly killReason: KillReason | undefined;
  readonly noProgressTimeoutMs: number;
  /** False when the job set `stream.non.zero.exit.is.failure=false`. */
  readonly nonZeroExitIsFailure?: boolean;
  /** The last lines of its stderr, for the failure's detail. */
  readonly stderrTail: string;
}

/** The error the attempt fails with, or undefined when the step succeeded. */
export function exitError(e: StepExit): unknown {
  const reason = e.killReason;
  if (reason?.kind === 'timeout') {
    const secs = Math.round(e.noProgressTimeoutMs / 100) / 10;
    return new TaskFailedError(`${e.noun} "${e.name}" killed after ${secs} s without progress (no input read, no output written)`, e.stderrTail);
  }
  if (reason?.kind === 'error') return reason.error;
  if (e.code === 0 || (e.code !== null && e.nonZeroExitIsFailure === false)) return undefined;
  return e.code === null
    ? new TaskFailedError(`${e.noun} "${e.name}" was killed by signal ${e.signal ?? 'unknown'}`, e.stderrTail)
    : new TaskFailedError(`${e.noun} "${e.name}" exited with code ${e.code}`, e.stderrTail);
}

/**
 * The error of a process that could not be spawned: a missing interpreter (ENOENT from
 * its `#!` line) or a file that is not executable (EACCES) fail the same way on every
 * retry, so they are poison; anything else may be transient.
 */
export function spawnError(noun: string, name: string, err: NodeJS.ErrnoException): Error {
  const detail = `${noun} "${name}" could not be started (${err.code ?? err.message})`;
  if (err.code === 'ENOENT') {
    return new PoisonTaskError(`${detail}: check the interpreter on its #! line exists on the worker`, '', { cause: err });
  }
  if (err.code === 'EACCES') return new PoisonTaskError(detail, '', { cause: err });
  return new TaskFailedError(detail, tailLines(err.stack ?? ''), { cause: err });
}
