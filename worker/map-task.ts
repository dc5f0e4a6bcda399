/**
 * One map attempt: stream the split (ranged GETs) through the mapper, partition,
 * sort (spilling past the sort buffer), combine, and upload ONE object holding all
 * R partitions. For a map-only job the mapper output is uploaded as it is.
 */

import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { MapReduceError } from '../core/errors.js';
import { ExternalSorter, type GroupCombiner } from '../core/external-sort.js';
import { mapOutputKey } from '../core/layout.js';
import { PartitionedFileWriter } from '../core/map-output.js';
import { detach, encodeLines, hasKey, keyOf, valueAfterKey } from '../core/records.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import { readSplitLines } from '../core/splits.js';
import type { AttemptInput, AttemptResult } from './attempt.js';
import { makeCombiner } from './combiner.js';
import { pumpStep } from './pump.js';

const c = (name: string) => counterKey(FRAMEWORK, name);

export async function runMapAttempt(a: AttemptInput): Promise<AttemptResult> {
  const { job, task, services: s } = a;
  const split = task.split;
  if (!split) throw new Error(`Map task ${task.taskId} has no split`);
  const counters: Record<string, number> = {};
  const add = (name: string, n: number) => {
    counters[name] = (counters[name] ?? 0) + n;
  };
  const fetchRange = async function* (start: number, end: number): AsyncIterable<Buffer> {
    yield* (await s.blobs.getRange(split.bucket, split.key, start, end)) as Readable;
  };
  const input = (async function* () {
    for await (const lines of readSplitLines(split, fetchRange)) {
      add(c(Counters.MAP_INPUT_RECORDS), lines.length);
      let bytes = lines.length;
      for (const l of lines) bytes += l.length;
      add(c(Counters.MAP_INPUT_BYTES), bytes);
      yield lines;
    }
  })();
  const key = mapOutputKey(job.jobId, task.taskId, task.attempt);
  const localFile = path.join(a.workDir, 'map-output');
  const countOutput = (batch: string[]) => {
    add(c(Counters.MAP_OUTPUT_RECORDS), batch.length);
    let bytes = batch.length;
    for (const l of batch) bytes += l.length;
    add(c(Counters.MAP_OUTPUT_BYTES), bytes);
  };

  if (job.numReduces === 0) {
    // Map-only: the mapper's output, in order, is the final part file.
    const out = createWriteStream(localFile);
    const result = await pumpStep({
      step: job.manifest.mapper,
      ctx: a.stepContext('map'),
      input,
      signal: a.signal,
      sink: async (batch) => {
        countOutput(batch);
        if (!out.write(encodeLines(batch))) await once(out, 'drain');
      },
    });
    out.end();
    await once(out, 'finish');
    const size = await s.blobs.putFile(s.names.bucket, key, localFile);
    add(c(Counters.OUTPUT_BYTES), size);
    return { output: { key, offsets: [0, size] }, counters, ...result };
  }

  const combiner = job.manifest.combiner ? await makeCombiner(job.manifest.combiner, a) : undefined;
  // A group combiner (a module's `combine`) lets repeated records be aggregated before the
  // sort; the two share the sort buffer's budget.
  const aggregate = combiner?.kind === 'group';
  const sorter = new ExternalSorter({
    numPartitions: job.numReduces,
    bufferBytes: aggregate ? Math.floor(a.settings.sortBufferBytes / 2) : a.settings.sortBufferBytes,
    spillDir: a.workDir,
    combiner,
  });
  const aggregator =
    combiner?.kind === 'group'
      ? new RepeatAggregator(combiner.fn, Math.ceil(a.settings.sortBufferBytes / 2), (lines) => sorter.add(lines))
      : undefined;
  try {
    const result = await pumpStep({
      step: job.manifest.mapper,
      ctx: a.stepContext('map'),
      input,
      signal: a.signal,
      sink: (batch) => {
        if (aggregator) return aggregator.add(batch); // counts the records in its own pass
        countOutput(batch);
        return sorter.add(batch);
      },
    });
    if (aggregator) {
      await aggregator.flush();
      add(c(Counters.MAP_OUTPUT_RECORDS), aggregator.records);
      add(c(Counters.MAP_OUTPUT_BYTES), aggregator.records + aggregator.chars);
    }
    const writer = new PartitionedFileWriter(localFile);
    await sorter.finish((partition, sorted) => writer.writePartition(partition, sorted));
    const { offsets } = await writer.close();
    add(c(Counters.SPILLED_RECORDS), sorter.stats.spilledRecords);
    add(c(Counters.COMBINE_INPUT_RECORDS), sorter.stats.combineInputRecords + (aggregator?.combineInputRecords ?? 0));
    add(c(Counters.COMBINE_OUTPUT_RECORDS), sorter.stats.combineOutputRecords + (aggregator?.combineOutputRecords ?? 0));
    // Exactly one PUT per map attempt: all partitions in one object, offsets on the task record.
    await s.blobs.putFile(s.names.bucket, key, localFile);
    return { output: { key, offsets }, counters, ...result };
  } finally {
    await sorter.cleanup();
  }
}

/** Estimated heap bytes of one distinct record held by RepeatAggregator, besides its chars. */
const REPEAT_ENTRY_BYTES = 64;
/** Values handed to the combiner in one call at most (a hot record is combined in pieces). */
const REPEAT_COMBINE_MAX = 65536;
/** Records seen before deciding whether they repeat enough to be worth counting. */
const REPEAT_PROBE_RECORDS = 65536;

/**
 * Map-side aggregation of repeated records, for jobs with a group combiner (a module's
 * `combine`): each distinct output line is counted in a hash map, and the combiner runs
 * once per distinct line on its n (identical) values before the lines go to the sort
 * buffer. A mapper that emits the same line many times (word count's `the\t1`, a log
 * aggregation's `status=500\t1`) then sorts and combines distinct lines only, instead of
 * every record. This is valid for any combiner, which may run on any subset of a key's
 * values. Memory is bounded by `limitBytes` (the map is handed on when it is full), and
 * the aggregator switches itself off when fewer than half the records repeat, where
 * counting would only add work.
 */
export class RepeatAggregator {
  /** Distinct line → its slot in `tally` (one hash lookup per record). */
  private slots = new Map<string, number>();
  private tally: number[] = [];
  private bytes = 0;
  private added = 0;
  private on = true;
  /** Records taken, and their chars (bytes) without the newlines. */
  records = 0;
  chars = 0;
  combineInputRecords = 0;
  combineOutputRecords = 0;

  constructor(
    private readonly combine: GroupCombiner,
    private readonly limitBytes: number,
    private readonly next: (lines: string[]) => Promise<void> | void,
  ) {}

  /** Take a batch of map output; returns a promise only when it handed lines on. */
  add(lines: string[]): Promise<void> | void {
    this.records += lines.length;
    if (!this.on) {
      for (let i = 0; i < lines.length; i++) this.chars += lines[i]!.length;
      return this.next(lines);
    }
    const slots = this.slots;
    const tally = this.tally;
    let bytes = this.bytes;
    let chars = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      chars += line.length;
      const slot = slots.get(line);
      if (slot === undefined) {
        // A copy: the line may be a view into a large input chunk it would keep alive.
        slots.set(detach(line), tally.length);
        tally.push(1);
        bytes += line.length + REPEAT_ENTRY_BYTES;
      } else {
        tally[slot]!++;
      }
    }
    this.bytes = bytes;
    this.chars += chars;
    this.added += lines.length;
    if (bytes > this.limitBytes || (this.added >= REPEAT_PROBE_RECORDS && slots.size * 2 > this.added)) {
      return this.flush();
    }
  }

  /** Hand every held record on (combined); call once more after the last batch. */
  async flush(): Promise<void> {
    const slots = this.slots;
    const tally = this.tally;
    // Records that rarely repeat: stop counting, pass batches straight on from now on.
    if (slots.size * 2 > this.added) this.on = false;
    this.slots = new Map();
    this.tally = [];
    this.bytes = 0;
    this.added = 0;
    let out: string[] = [];
    for (const [line, slot] of slots) {
      const n = tally[slot]!;
      if (n === 1) {
        out.push(line);
      } else {
        const r = this.combineRepeated(line, n);
        for (const l of r instanceof Promise ? await r : r) out.push(l);
      }
      if (out.length >= 8192) {
        const p = this.next(out);
        out = [];
        if (p) await p;
      }
    }
    if (out.length > 0) await this.next(out);
  }

  /**
   * The combined lines of `n` copies of `line`. A combiner may be applied to its own
   * output (it is associative and may run several times per key), so while each call
   * yields one line, n copies take O(log n) calls on two values: combine(v, v) stands
   * for 2 copies, combining that with itself for 4, and so on (binary decomposition of n).
   * Otherwise the copies are combined in pieces of REPEAT_COMBINE_MAX values. Synchronous
   * while the combiner is.
   */
  private combineRepeated(line: string, n: number): string[] | Promise<string[]> {
    const key = keyOf(line);
    const plan = this.repeatedPlan(key, valueAfterKey(line, key.length), n);
    let step = plan.next();
    while (!step.done) {
      const r = this.call(key, step.value);
      if (r instanceof Promise) {
        return (async () => {
          let st = plan.next(await r);
          while (!st.done) st = plan.next(await this.call(key, st.value));
          return st.value;
        })();
      }
      step = plan.next(r);
    }
    return step.value;
  }

  /** Yields the value lists to combine (receiving their output lines); returns the result lines. */
  private *repeatedPlan(key: string, value: string, n: number): Generator<string[], string[], string[]> {
    const single = (out: string[]) => (out.length === 1 ? valueAfterKey(out[0]!, key.length) : undefined);
    let acc: string | undefined;
    let pow: string | undefined = value;
    for (let k = n; pow !== undefined; ) {
      if (k % 2 === 1) {
        acc = acc === undefined ? pow : single(yield [acc, pow]);
        if (acc === undefined) break;
      }
      k = Math.floor(k / 2);
      if (k === 0) {
        this.combineInputRecords += n;
        this.combineOutputRecords += 1;
        return [`${key}\t${acc}`];
      }
      pow = single(yield [pow, pow]);
    }
    // The combiner did not give one line per call: the plain way, in pieces.
    const lines: string[] = [];
    for (let left = n; left > 0; left -= REPEAT_COMBINE_MAX) {
      const values = new Array<string>(Math.min(left, REPEAT_COMBINE_MAX)).fill(value);
      const combined = yield values;
      this.combineInputRecords += values.length;
      this.combineOutputRecords += combined.length;
      for (const l of combined) lines.push(l);
    }
    return lines;
  }

  /** Run the combiner on one key's values; its lines must keep the key. */
  private call(key: string, values: string[]): string[] | Promise<string[]> {
    const r = this.combine(key, values);
    return r instanceof Promise ? r.then((out) => checkKeys(key, out)) : checkKeys(key, r);
  }
}

function checkKeys(key: string, out: string[]): string[] {
  for (const l of out) {
    if (!hasKey(l, key)) {
      throw new MapReduceError(`The combiner changed key "${key}" into a line with another key: "${l}"`, {
        context: { key },
      });
    }
  }
  return out;
}
