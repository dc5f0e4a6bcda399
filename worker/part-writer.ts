/**
 * The local file of an output part (a reducer's, or a map-only task's), gzip-compressed
 * when the job's last step asks for it (`mapreduce.output.fileoutputformat.compress`):
 * Hadoop's tasks write compressed parts themselves, so the finisher only copies and
 * names them `part-NNNNN.gz`. Intermediate steps of a multi-step job are never
 * compressed: the next step reads them as plain text.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { settingsOf } from '../core/job-settings.js';
import type { StepView } from '../core/steps.js';

export interface PartWriter {
  write(chunk: string | Uint8Array): Promise<void>;
  /** Flush and close; resolves once the file is complete. */
  close(): Promise<void>;
}

/** True when the step's parts are the job's compressed output. */
export function compressesOutput(step: StepView): boolean {
  return step.stepIndex === step.stepCount - 1 && settingsOf(step).compressOutput;
}

export function openPartWriter(file: string, gzip: boolean): PartWriter {
  const out = createWriteStream(file);
  const gz = gzip ? createGzip() : undefined;
  const head: Writable = gz ?? out;
  const piped = gz ? pipeline(gz, out) : undefined;
  return {
    async write(chunk) {
      if (!head.write(chunk)) await once(head, 'drain');
    },
    async close() {
      head.end();
      if (piped) await piped;
      else await once(out, 'finish');
    },
  };
}
