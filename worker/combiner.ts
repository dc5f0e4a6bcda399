/**
 * Combiners for the map-side sorter: a module's `combine` runs inside the sort
 * buffer on each key's values (no streaming overhead); an executable combiner
 * runs once per sorted stream (each spill and each final partition merge).
 */
import type { SortOptions, StreamCombiner } from '../core/external-sort.js';
import type { Step } from '../core/manifest.js';
import type { AttemptInput } from './attempt.js';
import { startStep } from './step/index.js';
import { groupCombinerFromModule, loadModuleFunction } from './step/module-support.js';

/** `wrap` adapts an executable combiner to the job's shuffle lines (./key-field-step.ts). */
export async function makeCombiner(
  step: Step,
  a: AttemptInput,
  wrap?: (fn: StreamCombiner) => StreamCombiner,
): Promise<SortOptions['combiner']> {
  if (typeof step !== 'string') {
    const fn = await loadModuleFunction(a.workDir, step.module, 'combine');
    return { kind: 'group', fn: groupCombinerFromModule(fn, a.stepContext('combine')) };
  }
  const fn: StreamCombiner = (sorted) => streamThroughStep(step, a, sorted);
  return { kind: 'stream', fn: wrap ? wrap(fn) : fn };
}

/** Pipe one sorted stream through a combiner process, yielding its output batches. */
async function* streamThroughStep(
  step: Step,
  a: AttemptInput,
  input: AsyncIterable<string[]>,
): AsyncIterable<string[]> {
  const running = await startStep(step, { ...a.stepContext('combine'), signal: a.signal });
  const feed = (async () => {
    for await (const batch of input) await running.write(batch);
    await running.end();
  })();
  // A feed failure surfaces through `done` (the process is killed) or below.
  feed.catch(() => {});
  for await (const batch of running.output) yield batch;
  await feed;
  await running.done;
}
