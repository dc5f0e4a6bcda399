/**
 * One reduce attempt: fetch this partition's slice of every committed map attempt
 * (one ranged GET each, bounded concurrency, retries; small slices in memory, others
 * on disk; as the maps commit when the reduce was released early), merge them by key reading at most `sortFactor` at once (in passes through
 * local disk when there are more, see core/merge-passes.ts) into the reducer, and
 * upload the part to a temp key. The part becomes visible only after the commit.
 */

import path from 'node:path';
import v8 from 'node:v8';
import { reduceTempKey } from '../core/layout.js';
import { DEFAULT_SORT_FACTOR, mergeSegments, newMergeStats } from '../core/merge-passes.js';
import { linesOf } from '../core/byte-merge.js';
import { COUNTED_FORMAT } from '../core/counted-lines.js';
import { releaseSpareSortStorage } from '../core/byte-sort-buffer.js';
import { releaseCharTableSpare } from '../core/char-table-storage.js';
import { encodeLines } from '../core/records.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { memoryBreakdown } from '../core/worker-heap.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import { keyFieldHooks } from './key-field-step.js';
import { compressesOutput, openPartWriter } from './part-writer.js';
import { pumpStep } from './pump.js';
import { isIdentityCommand } from './step/identity.js';
import type { StepResult } from './step/index.js';
import { watchCommittedMaps } from './map-output-watch.js';
import { DEFAULT_FETCH, SliceFetcher } from './slice-fetch.js';
import { workerHeap } from './heap-keeper.js';
import { DescriptorPeak } from './descriptor-peak.js';

const c = (name: string) => counterKey(FRAMEWORK, name);

export async function runReduceAttempt(a: AttemptInput): Promise<AttemptResult> {
  // What the process brings to the reduce (V8's spaces, glibc's heap), before it allocates
  // anything: the reducer's RSS at M = 2,048 is mostly this (core/worker-heap.ts).
  a.services.log.debug(LOG_EVENTS.reduceMemory, { taskId: a.task.taskId, at: 'start', ...memoryBreakdown(process.memoryUsage(), v8.getHeapSpaceStatistics()) });
  // The map side's spare sort arena and key table (core/spare.ts) are no use to a reduce:
  // drop them, so V8 can free them (no collection is forced here: see core/worker-heap.ts).
  releaseSpareSortStorage();
  releaseCharTableSpare();
  const { job, task, services: s } = a;
  const r = task.index;
  const factor = a.step.sortFactor ?? DEFAULT_SORT_FACTOR;
  // The attempt's own peak of descriptors, looked at where it can peak: each GET's response
  // (its socket and the others in flight held), each merge's opened inputs and the final merge's end.
  const descriptors = new DescriptorPeak();
  // Files being downloaded count against the same bound as files being merged.
  // One ranged GET per slice, all of the job bucket: signed and sent without the SDK's
  // per-request middleware stack (aws/lean-range-reader.ts), whose garbage grew the reducer's
  // heap with the number of slices.
  const readRange = s.blobs.rangeReader(s.names.bucket);
  const fetcher = new SliceFetcher(
    async (key, start, end) => {
      const body = await readRange(key, start, end);
      descriptors.look('fetch');
      return body;
    },
    a.workDir,
    { ...DEFAULT_FETCH, concurrency: Math.min(DEFAULT_FETCH.concurrency, factor) },
    a.signal,
  );
  // Each committed map's slice, fetched as the map is seen committed (all at once unless
  // this reduce was released early: worker/map-output-watch.ts). Slices are merged in map
  // order: the merge breaks key ties by position, so the output does not depend on which
  // map finished first, nor on when this reducer fetched it.
  await watchCommittedMaps(
    s,
    job,
    a.step.stepIndex,
    async (maps) => {
      const slices = maps
        .map((t) => ({ slice: { key: t.output.key, start: t.output.offsets[r]!, end: t.output.offsets[r + 1]!, counted: t.output.format === COUNTED_FORMAT }, index: t.index }))
        .filter(({ slice }) => slice.end > slice.start);
      a.progress.total += slices.reduce((n, { slice }) => n + slice.end - slice.start, 0);
      await fetcher.fetch(slices);
    },
    a.signal,
    a.mapListing,
  );
  // Up to `concurrency` connections were open for the fetch; the merge and the part's upload
  // need one at most, and a long-lived worker should not keep the rest (aws/clients.ts).
  s.blobs.closeIdleConnections();
  const counters: Record<string, number> = {};
  const add = (name: string, n: number) => {
    counters[name] = (counters[name] ?? 0) + n;
  };
  add(c(Counters.REDUCE_FETCH_RETRIES), fetcher.stats.retries);
  const merge = newMergeStats();
  const hooks = keyFieldHooks(a.step);
  // The merge hands over blocks of whole lines as bytes; they are decoded to line strings
  // only for a reducer that reads strings (a module) or a key-field conversion.
  const toReduceInput = hooks.toReduceInput;
  const reducer = a.step.reducer!;
  // `cat` (worker/step/identity.ts) writes what it reads: the merged bytes go to the part as
  // they are, each block written before the next is merged (so into one reused block).
  const identity = !toReduceInput && !hooks.reduceOutput && typeof reducer === 'string' && isIdentityCommand(reducer, a.workDir);
  // A module reducer reads each block at once and keeps no reference to it (nor to its line
  // index): its blocks share one buffer, and the merge tells it where the lines and groups are.
  const module = !toReduceInput && typeof reducer !== 'string';
  const blocks = (async function* () {
    for await (const block of mergeSegments(fetcher.segments(), {
      factor,
      tmpDir: a.workDir,
      stats: merge,
      reuseBlocks: identity || module,
      lineIndex: module,
      onInputsOpen: () => descriptors.look('merge'),
    })) {
      add(c(Counters.REDUCE_INPUT_RECORDS), block.lines);
      add(c(Counters.REDUCE_INPUT_GROUPS), block.groups);
      yield block;
      a.progress.done += block.stored;
    }
    // The merge's end: the reducer (a child's pipes) and the part file are open, inputs not yet freed.
    descriptors.look('merge');
  })();
  const localFile = path.join(a.workDir, 'part');
  const out = openPartWriter(localFile, compressesOutput(a.step), s.blobs.sendsChecksums);
  let result: StepResult;
  if (identity) {
    for await (const block of blocks) {
      a.signal.throwIfAborted();
      add(c(Counters.REDUCE_OUTPUT_RECORDS), block.lines);
      await out.writeReused(block.bytes);
    }
    result = { stderr: Buffer.alloc(0), stderrTail: '' };
  } else {
    result = await pumpStep({
      step: reducer,
      ctx: a.stepContext('reduce'),
      input: (async function* () {
        for await (const block of blocks) yield toReduceInput ? toReduceInput(linesOf(block.bytes)) : module ? block : block.bytes;
      })(),
      signal: a.signal,
      sink: async (batch) => {
        add(c(Counters.REDUCE_OUTPUT_RECORDS), batch.length);
        await out.write(encodeLines(hooks.reduceOutput ? hooks.reduceOutput(batch) : batch));
      },
      // A module reducer writes its records as bytes, unless a key-field conversion needs the lines.
      sinkRecords: hooks.reduceOutput
        ? undefined
        : async (batch) => {
            add(c(Counters.REDUCE_OUTPUT_RECORDS), batch.length);
            await out.write(batch.bytes);
          },
    });
  }
  const { crc32 } = await out.close();
  // After the fetch and the merge: the reduce's own peak is here or close (all slices fetched).
  s.log.debug(LOG_EVENTS.reduceMemory, { taskId: task.taskId, at: 'end', ...memoryBreakdown(process.memoryUsage(), v8.getHeapSpaceStatistics()) });
  s.log.debug(LOG_EVENTS.reduceDescriptors, { taskId: task.taskId, openFiles: descriptors.openFiles, sockets: descriptors.sockets, at: descriptors.at, looks: descriptors.looks });
  // What a fetch of many slices promoted is garbage now: collected before the part's upload,
  // the commit and the next claim's map listing promote more (core/worker-heap.ts
  // `shouldCollectAfterReduce`), so they reuse its old-space pages instead of adding some.
  workerHeap.afterReduce(fetcher.stats.inMemory + fetcher.stats.onDisk);
  add(c(Counters.REDUCE_INTERMEDIATE_MERGES), merge.intermediateMerges);
  add(c(Counters.REDUCE_MEMORY_MERGES), merge.memoryMerges);
  add(c(Counters.REDUCE_MERGE_MAX_OPEN_FILES), merge.maxOpenFiles);
  const key = reduceTempKey(job.jobId, task.taskId, task.attempt);
  const size = await s.blobs.putFile(s.names.bucket, key, localFile, { crc32 });
  add(c(Counters.OUTPUT_BYTES), size);
  return { output: { key, offsets: [0, size] }, counters, ...result };
}
