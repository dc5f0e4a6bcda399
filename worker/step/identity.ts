/**
 * `cat` as a step is free: an identity step hands its input batches to its output
 * without spawning a process. Same semantics as running `cat`: an executable gets its
 * input lines each ended by '\n' and its output is cut at '\n', so `cat` gives back
 * exactly the lines it got (empty ones included; input lines never hold '\n', and
 * line ends were already stripped as Hadoop's LineReader does). Key/value splitting
 * happens after the step, as for any executable. A shipped file named `cat` is a user
 * program and is run as such.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { linesOf } from '../../core/byte-merge.js';
import { encodeLines } from '../../core/records.js';
import { OutputChannel } from './output-channel.js';
import type { RunningStep, StepContext, StepResult } from './types.js';

/** True when `command` is the identity `cat` (no arguments) and no shipped file shadows it. */
export function isIdentityCommand(command: string, workDir: string): boolean {
  return command.trim() === 'cat' && !existsSync(path.join(workDir, 'cat'));
}

/**
 * Start an identity step: output = input, batch for batch, with backpressure. Lines
 * written as bytes (`writeBytes`) come out as bytes from `byteOutput()` untouched; the
 * other pairings are converted once per batch.
 */
export function startIdentityStep(ctx: Pick<StepContext, 'signal'>): RunningStep {
  const channel = new OutputChannel<string[] | Buffer>();
  let aborted: { reason: unknown } | undefined;
  let rejectDone: (reason: unknown) => void = () => {};
  const abortedDone = new Promise<never>((_, reject) => (rejectDone = reject));
  const onAbort = () => {
    aborted = { reason: ctx.signal?.reason };
    channel.fail(aborted.reason);
    rejectDone(aborted.reason);
  };
  if (ctx.signal?.aborted) onAbort();
  else ctx.signal?.addEventListener('abort', onAbort, { once: true });
  const done = Promise.race([channel.drained, abortedDone]).then((): StepResult => {
    ctx.signal?.removeEventListener('abort', onAbort);
    return { stderr: Buffer.alloc(0), stderrTail: '' };
  });
  done.catch(() => {}); // observed by the caller; never an unhandled rejection on its own
  return {
    async write(lines) {
      if (aborted) throw aborted.reason;
      channel.push(lines.slice());
      await channel.room();
    },
    async writeBytes(bytes) {
      if (aborted) throw aborted.reason;
      channel.push(bytes);
      await channel.room();
    },
    async end() {
      if (aborted) throw aborted.reason;
      channel.close();
    },
    output: asLines(channel),
    byteOutput: () => asBytes(channel),
    done,
  };
}

async function* asLines(batches: AsyncIterable<string[] | Buffer>): AsyncIterable<string[]> {
  for await (const b of batches) yield Buffer.isBuffer(b) ? linesOf(b) : b;
}

async function* asBytes(batches: AsyncIterable<string[] | Buffer>): AsyncIterable<Buffer> {
  for await (const b of batches) yield Buffer.isBuffer(b) ? b : encodeLines(b);
}
