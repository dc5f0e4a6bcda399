/**
 * One reduce attempt: fetch this partition's slice of every committed map attempt
 * (one ranged GET each), k-way merge them by key into the reducer, and upload the
 * part to a temp key. The part becomes visible only after the commit.
 */

import { once } from 'node:events';
import { createReadStream, createWriteStream } from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { reduceTempKey } from '../core/layout.js';
import { mergeSorted } from '../core/merge.js';
import { encodeLines, hasKey, keyOf, readLineBatches } from '../core/records.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import { forEachLimit } from '../services/context.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import { pumpStep } from './pump.js';

const c = (name: string) => counterKey(FRAMEWORK, name);

export async function runReduceAttempt(a: AttemptInput): Promise<AttemptResult> {
  const { job, task, services: s } = a;
  const r = task.index;
  const maps = (await s.tasks.list(job.jobId, 'map')).filter((t) => t.status === 'COMMITTED' && t.output);
  if (maps.length !== job.numMaps) {
    throw new Error(`Reduce ${task.taskId} started with ${maps.length}/${job.numMaps} committed maps`);
  }
  // Download the slices first: bounded memory and few open connections, whatever M is.
  const slices = maps
    .map((t) => ({ key: t.output!.key, start: t.output!.offsets[r]!, end: t.output!.offsets[r + 1]! }))
    .filter((sl) => sl.end > sl.start);
  a.progress.total = slices.reduce((n, sl) => n + sl.end - sl.start, 0);
  const files: string[] = [];
  await forEachLimit(
    slices.map((sl, i) => ({ ...sl, file: path.join(a.workDir, `slice-${i}`) })),
    8,
    async (sl) => {
      await pipeline(await s.blobs.getRange(s.names.bucket, sl.key, sl.start, sl.end), createWriteStream(sl.file));
      files.push(sl.file);
    },
  );
  const counters: Record<string, number> = {};
  const add = (name: string, n: number) => {
    counters[name] = (counters[name] ?? 0) + n;
  };
  let lastKey: string | undefined;
  const input = (async function* () {
    for await (const batch of mergeSorted(files.sort().map((f) => readLineBatches(createReadStream(f))))) {
      add(c(Counters.REDUCE_INPUT_RECORDS), batch.length);
      let groups = 0;
      let bytes = batch.length;
      for (let i = 0; i < batch.length; i++) {
        const line = batch[i]!;
        bytes += line.length;
        // The key is cut out only when it changes: one allocation per group, not per line.
        if (lastKey === undefined || !hasKey(line, lastKey)) {
          groups++;
          lastKey = keyOf(line);
        }
      }
      add(c(Counters.REDUCE_INPUT_GROUPS), groups);
      yield batch;
      a.progress.done += bytes;
    }
  })();
  const localFile = path.join(a.workDir, 'part');
  const out = createWriteStream(localFile);
  const result = await pumpStep({
    step: job.manifest.reducer!,
    ctx: a.stepContext('reduce'),
    input,
    signal: a.signal,
    sink: async (batch) => {
      add(c(Counters.REDUCE_OUTPUT_RECORDS), batch.length);
      if (!out.write(encodeLines(batch))) await once(out, 'drain');
    },
  });
  out.end();
  await once(out, 'finish');
  const key = reduceTempKey(job.jobId, task.taskId, task.attempt);
  const size = await s.blobs.putFile(s.names.bucket, key, localFile);
  add(c(Counters.OUTPUT_BYTES), size);
  return { output: { key, offsets: [0, size] }, counters, ...result };
}
