/**
 * How a worker runs user code for one task attempt: one interface over
 * Hadoop-Streaming executables (`worker/step/executable.ts`) and in-process
 * JavaScript modules (`worker/step/module.ts`).
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
import type { Step } from '../../core/manifest.js';
import { startExecutableStep } from './executable.js';
import { isIdentityCommand, startIdentityStep } from './identity.js';
import { startModuleStep } from './module.js';
import type { RunningStep, StepContext } from './types.js';

export type { PairSink, RunningStep, StepContext, StepResult, StepRole } from './types.js';

/**
 * True when the step is best fed bytes (whole '\n'-ended lines, `RunningStep.writeBytes`):
 * a command line, an executable's stdin or the identity `cat` (which hands bytes on, or
 * has them decoded once by worker/pump.ts). Modules read latin1 line strings, which the
 * split reader cuts directly.
 */
export function readsBytes(step: Step): boolean {
  return typeof step === 'string';
}

/**
 * Start a mapper, reducer or combiner for one attempt: a command line string runs as a
 * Hadoop-Streaming executable, `{ module }` runs the module's `map`/`reduce`/`combine`
 * export in-process; `cat` hands its input on without a process (./identity.ts). Rejects with PoisonTaskError when the program or export is missing.
 */
export function startStep(step: Step, ctx: StepContext): Promise<RunningStep> {
  if (typeof step === 'string' && isIdentityCommand(step, ctx.workDir)) {
    // Like an executable, an identity step refuses to start once the attempt was aborted.
    return ctx.signal?.aborted ? Promise.reject(ctx.signal.reason as Error) : Promise.resolve(startIdentityStep(ctx));
  }
  return typeof step === 'string' ? startExecutableStep(step, ctx) : startModuleStep(step.module, ctx);
}

