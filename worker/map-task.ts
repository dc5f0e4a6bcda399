/**
 * One map attempt: stream the split (ranged GETs) through the mapper, partition,
 * sort (spilling past the sort buffer), combine, and upload ONE object holding all
 * R partitions. For a map-only job the mapper output is uploaded as it is.
 */

import path from 'node:path';
import { COUNTED_FORMAT } from '../core/counted-lines.js';
import { ExternalSorter } from '../core/external-sort.js';
import { mapOutputKey } from '../core/layout.js';
import { PartitionedFileWriter } from '../core/map-output.js';
import { encodeLines } from '../core/records.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import { countLineFeeds } from '../core/line-ends.js';
import { readSplitBytes, readSplitLines } from '../core/splits.js';
import { DEFAULT_RESUME, resumingRange } from './resume-range.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import { makeCombiner } from './combiner.js';
import { pumpStep } from './pump.js';
import { readsBytes } from './step/index.js';
import { isIdentityCommand } from './step/identity.js';
import { keyFieldHooks } from './key-field-step.js';
import { compressesOutput, openPartWriter } from './part-writer.js';
import { RepeatAggregator } from './repeat-aggregator.js';

const c = (name: string) => counterKey(FRAMEWORK, name);

/** The last split points read from S3, by key: a worker runs many map tasks of one job in a row. */
let cachedPoints: { key: string; points: Promise<string[]> } | undefined;

/** A total-order job's split points stored in S3 (too big for the job record); read once per job per worker. */
function loadSplitPoints(s: AttemptInput['services'], key: string): Promise<string[]> {
  if (cachedPoints?.key !== key) {
    const points = s.blobs.getText(s.names.bucket, key).then((text) => {
      const parsed: unknown = JSON.parse(text);
      if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) throw new Error(`${key} does not hold an array of split points`);
      return parsed as string[];
    });
    // A failed read is not cached: the next attempt reads again.
    points.catch(() => {
      if (cachedPoints?.key === key) cachedPoints = undefined;
    });
    cachedPoints = { key, points };
  }
  return cachedPoints.points;
}

export async function runMapAttempt(a: AttemptInput): Promise<AttemptResult> {
  const { job, task, services: s } = a;
  const split = task.split;
  if (!split) throw new Error(`Map task ${task.taskId} has no split`);
  const counters: Record<string, number> = {};
  const add = (name: string, n: number) => {
    counters[name] = (counters[name] ?? 0) + n;
  };
  // A body reset mid-way is re-requested from the byte reached (the SDK retries only
  // until the headers arrive), so one reset does not cost the attempt.
  const fetchRange = (start: number, end: number): AsyncIterable<Buffer> =>
    resumingRange((from, to) => s.inputs.getRange(split.bucket, split.key, from, to), start, end, {
      ...DEFAULT_RESUME,
      signal: a.signal,
    });
  a.progress.total = split.end - split.start;
  // Counted as the mapper sees them: records and bytes after the line ends became '\n'.
  // Progress moves once the step took the batch, so it counts what the mapper consumed.
  const lineInput = async function* (): AsyncIterable<string[]> {
    for await (const lines of readSplitLines(split, fetchRange)) {
      add(c(Counters.MAP_INPUT_RECORDS), lines.length);
      let bytes = lines.length;
      for (const l of lines) bytes += l.length;
      add(c(Counters.MAP_INPUT_BYTES), bytes);
      yield lines;
      a.progress.done += bytes;
    }
  };
  // Lines of the input blocks, for a step that hands a block on as it is (the identity):
  // its output records are then counted without a second scan.
  const inputLines = new WeakMap<Buffer, number>();
  // `cat` into the sort buffer as bytes: the sorter counts its output records, which are its
  // input records (each block handed on as it came), so the blocks are not scanned for them
  // (~0.2 CPU-ms per MiB, 3 % of a TeraSort map). Set before the input is read.
  let inputCountedBySorter = false;
  // An executable (or `cat`) reads the split's bytes as fetched: whole '\n'-ended lines, never decoded.
  const byteInput = async function* (): AsyncIterable<Buffer> {
    for await (const block of readSplitBytes(split, fetchRange)) {
      if (!inputCountedBySorter) {
        const lines = countLineFeeds(block);
        inputLines.set(block, lines);
        add(c(Counters.MAP_INPUT_RECORDS), lines);
      }
      add(c(Counters.MAP_INPUT_BYTES), block.length);
      yield block;
      a.progress.done += block.length;
    }
  };
  const input = readsBytes(a.step.mapper) ? byteInput() : lineInput();
  const key = mapOutputKey(job.jobId, task.taskId, task.attempt);
  const localFile = path.join(a.workDir, 'map-output');
  const countOutputBytes = (batch: string[]) => {
    let bytes = batch.length;
    for (const l of batch) bytes += l.length;
    add(c(Counters.MAP_OUTPUT_BYTES), bytes);
  };
  const countOutput = (batch: string[]) => {
    add(c(Counters.MAP_OUTPUT_RECORDS), batch.length);
    countOutputBytes(batch);
  };

  // Map-only: no sorter counts the records, so the block's lines are counted here.
  const countOutputBlock = (block: Buffer) => {
    add(c(Counters.MAP_OUTPUT_RECORDS), inputLines.get(block) ?? countLineFeeds(block));
    add(c(Counters.MAP_OUTPUT_BYTES), block.length);
  };

  const hooks = keyFieldHooks(a.step);
  const bytes = a.settings.mapSideBytes !== false;
  if (job.numReduces === 0) {
    // Map-only: the mapper's output, in order, is the final part file.
    const out = openPartWriter(localFile, compressesOutput(a.step), s.blobs.sendsChecksums);
    const result = await pumpStep({
      step: a.step.mapper,
      ctx: a.stepContext('map'),
      input,
      signal: a.signal,
      sink: async (batch) => {
        countOutput(batch);
        await out.write(encodeLines(hooks.mapOnlyOutput ? hooks.mapOnlyOutput(batch) : batch));
      },
      // Without a key-field rewrite the mapper's bytes are the part's bytes.
      sinkBytes:
        !bytes || hooks.mapOnlyOutput
          ? undefined
        : async (block) => {
            countOutputBlock(block);
            await out.write(block);
          },
    });
    const { crc32 } = await out.close();
    const size = await s.blobs.putFile(s.names.bucket, key, localFile, { crc32 });
    add(c(Counters.OUTPUT_BYTES), size);
    return { output: { key, offsets: [0, size] }, counters, ...result };
  }

  const combiner = a.step.combiner ? await makeCombiner(a.step.combiner, a, hooks.wrapCombiner) : undefined;
  // A group combiner (a module's `combine`) lets repeated records be aggregated before the
  // sort; the two share the sort buffer's budget.
  const aggregate = combiner?.kind === 'group';
  const sorter = new ExternalSorter({
    numPartitions: job.numReduces,
    bufferBytes: aggregate ? Math.floor(a.settings.sortBufferBytes / 2) : a.settings.sortBufferBytes,
    // Behind the aggregator the lines are already counted: distinct within each of its
    // windows, or passed on as they came because they rarely repeat. Counting them
    // again would only cost the sort buffer's probe (65,536 hash lookups).
    countRepeats: !aggregate,
    spillDir: a.workDir,
    combiner,
    partitionOf: hooks.partitionOf,
    bytes,
    // The last fill may pass the buffer when the rest of the split fits (a gzip split's
    // progress counts inflated bytes against its stored size, so it has none).
    inputRead: split.gzip ? undefined : () => a.progress.done / a.progress.total,
    splitPoints: job.splitPointsKey ? await loadSplitPoints(s, job.splitPointsKey) : job.splitPoints,
  });
  const aggregator =
    combiner?.kind === 'group'
      ? new RepeatAggregator(
          combiner.fn,
          Math.ceil(a.settings.sortBufferBytes / 2),
          (lines) => sorter.add(lines),
          // The aggregated pairs as bytes, when the sorter holds bytes (it copies each block).
          bytes && !hooks.partitionOf ? (block) => sorter.addBytes(block) : undefined,
        )
      : undefined;
  const sinksBytes = bytes && !aggregator && !hooks.toShuffle;
  inputCountedBySorter = sinksBytes && typeof a.step.mapper === 'string' && isIdentityCommand(a.step.mapper, a.workDir);
  try {
    const result = await pumpStep({
      step: a.step.mapper,
      // A module mapper hands its pairs to the aggregator directly (an executable's lines come through `sink`).
      ctx: aggregator ? { ...a.stepContext('map'), pairs: aggregator } : a.stepContext('map'),
      input,
      signal: a.signal,
      sink: (batch) => {
        if (aggregator) return aggregator.add(batch); // counts the records in its own pass
        countOutputBytes(batch); // and the sorter the records
        return sorter.add(hooks.toShuffle ? hooks.toShuffle(batch) : batch);
      },
      // Records stay bytes from the mapper's stdout to the sort buffer (unless a key-field
      // rewrite or the module aggregator needs line strings).
      sinkBytes: !sinksBytes
        ? undefined
        : (block) => {
            add(c(Counters.MAP_OUTPUT_BYTES), block.length);
            return sorter.addBytes(block);
          },
    });
    // The sorter counted the records as it took them (MAP_OUTPUT_RECORDS at the mapper's output, as Hadoop counts them).
    if (!aggregator) add(c(Counters.MAP_OUTPUT_RECORDS), sorter.recordsAdded);
    if (inputCountedBySorter) add(c(Counters.MAP_INPUT_RECORDS), sorter.recordsAdded);
    if (aggregator) {
      await aggregator.flush(true);
      add(c(Counters.MAP_OUTPUT_RECORDS), aggregator.records);
      add(c(Counters.MAP_OUTPUT_BYTES), aggregator.records + aggregator.chars);
    }
    const writer = new PartitionedFileWriter(localFile, undefined, s.blobs.sendsChecksums);
    await sorter.finish((partition, sorted) => writer.writePartition(partition, sorted));
    const { offsets, crc32 } = await writer.close();
    add(c(Counters.SPILLED_RECORDS), sorter.stats.spilledRecords);
    add(c(Counters.COMBINE_INPUT_RECORDS), sorter.stats.combineInputRecords + (aggregator?.combineInputRecords ?? 0));
    add(c(Counters.COMBINE_OUTPUT_RECORDS), sorter.stats.combineOutputRecords + (aggregator?.combineOutputRecords ?? 0));
    // Exactly one PUT per map attempt: all partitions in one object, offsets on the task record.
    await s.blobs.putFile(s.names.bucket, key, localFile, { crc32 });
    // The reducers read a counted output's records with their counts (core/counted-lines.ts).
    return { output: { key, offsets, ...(sorter.outputIsCounted ? { format: COUNTED_FORMAT } : {}) }, counters, ...result };
  } finally {
    await sorter.cleanup();
  }
}
