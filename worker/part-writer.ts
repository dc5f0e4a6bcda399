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
import { crc32, createGzip } from 'node:zlib';
import { settingsOf } from '../core/job-settings.js';
import type { StepView } from '../core/steps.js';

export interface PartWriter {
  /** Write `chunk`, which stays the writer's until written (resolves when the stream has room). */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Write `chunk` and resolve once it was taken (written to the file, or through gzip): the
   * caller may then reuse it. One write at a time, so for large chunks (a merge's blocks).
   */
  writeReused(chunk: Uint8Array): Promise<void>;
  /**
   * Flush and close; resolves once the file is complete, with the CRC-32 of its bytes (for its
   * upload), or undefined when opened without a checksum.
   */
  close(): Promise<{ crc32: number | undefined }>;
}

/** True when the step's parts are the job's compressed output. */
export function compressesOutput(step: StepView): boolean {
  return step.stepIndex === step.stepCount - 1 && settingsOf(step).compressOutput;
}

/**
 * Open a part file for writing.
 * @param checksum compute the file's CRC-32 for its upload (@default true): false when the store
 *   does not check it (BlobStore.sendsChecksums).
 */
export function openPartWriter(file: string, gzip: boolean, checksum = true): PartWriter {
  const out = createWriteStream(file);
  const gz = gzip ? createGzip() : undefined;
  const head: Writable = gz ?? out;
  const piped = gz ? pipeline(gz, out) : undefined;
  let crc = 0;
  // A write error reaches its write's callback; the listener keeps it from being thrown as an
  // unhandled 'error' event, and close reports it too.
  let failure: Error | undefined;
  out.on('error', (err) => (failure ??= err));
  // The file's bytes: gzip's output, or what is written.
  if (checksum)
    gz?.on('data', (c: Buffer) => {
      crc = crc32(c, crc);
    });
  const plainCrc = checksum && !gz;
  return {
    async write(chunk) {
      if (plainCrc) crc = crc32(chunk, crc);
      if (!head.write(chunk)) await once(head, 'drain');
    },
    async writeReused(chunk) {
      if (plainCrc) crc = crc32(chunk, crc);
      // Resolved by the write's callback, not by 'drain': a chunk below the stream's
      // highWaterMark would still be queued when 'drain' (or nothing) says there is room.
      await new Promise<void>((resolve, reject) => head.write(chunk, (err) => (err ? reject(err) : resolve())));
    },
    async close() {
      head.end();
      if (piped) await piped;
      else if (failure === undefined) await once(out, 'finish');
      if (failure !== undefined) throw failure;
      return { crc32: checksum ? crc : undefined };
    },
  };
}
