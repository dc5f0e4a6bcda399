/**
 * Feed a running step (executable or module) from an input stream while draining
 * its output, concurrently, so neither side can block the other. Any failure aborts
 * the attempt (killing the process) before it is reported.
 */
import { type LineBlock, linesOf } from '../core/byte-merge.js';
import type { Step } from '../core/manifest.js';
import { type StepContext, type StepResult, startStep } from './step/index.js';
import type { RecordBatch } from './step/types.js';

export interface PumpOptions {
  readonly step: Step;
  readonly ctx: Omit<StepContext, 'signal'>;
  /**
   * Line batches, or whole '\n'-ended lines as bytes (decoded here for a step that reads
   * strings), or the merge's blocks (their bytes, and their line index for a step that reads it).
   */
  readonly input: AsyncIterable<string[] | Buffer | LineBlock>;
  readonly sink: (batch: string[]) => void | Promise<void>;
  /**
   * Takes the output as Buffers of whole '\n'-ended lines instead, when the step can give
   * them (`RunningStep.byteOutput`: an executable, `cat`); `sink` gets the output otherwise.
   */
  readonly sinkBytes?: (block: Buffer) => void | Promise<void>;
  /**
   * Takes the output as blocks of whole '\n'-ended lines with their record counts instead,
   * when the step writes them (`RunningStep.recordOutput`: a module reducer or combiner).
   */
  readonly sinkRecords?: (batch: RecordBatch) => void | Promise<void>;
  readonly signal: AbortSignal;
}

/** Run one step to completion; rejects with the step's TaskFailedError or the first other error. */
export async function pumpStep(o: PumpOptions): Promise<StepResult> {
  const local = new AbortController();
  const onOuterAbort = () => local.abort(o.signal.reason);
  o.signal.addEventListener('abort', onOuterAbort, { once: true });
  try {
    if (o.signal.aborted) throw o.signal.reason;
    const running = await startStep(o.step, { ...o.ctx, signal: local.signal });
    // Asked for before any input is written, as the step requires.
    const records = o.sinkRecords && running.recordOutput ? running.recordOutput() : undefined;
    const feed = (async () => {
      for await (const batch of o.input) {
        if (local.signal.aborted) return;
        if (Array.isArray(batch)) await running.write(batch);
        else if (Buffer.isBuffer(batch)) await (running.writeBytes ? running.writeBytes(batch) : running.write(linesOf(batch)));
        else if (running.writeBytes) await running.writeBytes(batch.bytes, batch.index, batch.lines);
        else await running.write(linesOf(batch.bytes));
      }
      await running.end();
    })();
    const drain = (async () => {
      if (records !== undefined) {
        for await (const batch of records) await o.sinkRecords!(batch);
      } else if (o.sinkBytes && running.byteOutput) {
        for await (const block of running.byteOutput()) await o.sinkBytes(block);
      } else {
        for await (const batch of running.output) await o.sink(batch);
      }
    })();
    const all = Promise.all([feed, drain, running.done]);
    // Whichever side fails first aborts the step, so the others finish instead of waiting forever.
    for (const p of [feed, drain, running.done]) {
      p.catch((err) => {
        if (!local.signal.aborted) local.abort(err);
      });
    }
    try {
      const [, , result] = await all;
      return result;
    } catch (err) {
      // Prefer the step's own failure (exit code, stderr tail) over a broken-pipe symptom.
      const stepError = await running.done.then(
        () => undefined,
        (e: unknown) => e,
      );
      throw stepError ?? err;
    }
  } finally {
    o.signal.removeEventListener('abort', onOuterAbort);
  }
}
