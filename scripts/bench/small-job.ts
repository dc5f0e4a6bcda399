/**
 * `small_job_16mib_ratio` (issue 14, item 4): the fixed cost of a job users meet
 * often. The first 16 MiB of a corpus (cut at a line end; all of it when smaller),
 * stored as one object; module word count with combiner, 2 map tasks per worker
 * (`numMappers`), 2 reducers, on the warm benchmark stack, timed from manifest upload to
 * `_SUCCESS` like `small_job_latency_ms_median`. Figure: the single process's time on
 * the same bytes over the framework's (> 1 means the framework is faster).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchStack } from './bench-stack.js';
import { MIB } from './corpus.js';
import { timed } from './processes.js';
import { type BenchOptions, diffCounts } from './results.js';

export const SMALL_JOB_BYTES = 16 * MIB;

export interface SmallJobTimes {
  readonly bytes: number;
  readonly map_tasks: number;
  readonly single_process_s: number[];
  readonly framework_s: number[];
}

/** Reps of the 16 MiB job and of the single process on the same bytes; throws when the counts differ. */
export async function measureSmallJob(
  o: BenchOptions,
  b: BenchStack,
  run: { corpus: string; name: string; singleJs: string; codeUri: string },
): Promise<SmallJobTimes> {
  const data = readFileSync(run.corpus);
  const cut = data.length <= SMALL_JOB_BYTES ? data.length : data.lastIndexOf(0x0a, SMALL_JOB_BYTES - 1) + 1;
  const input = data.subarray(0, cut);
  const file = path.join(o.workDir, `job16-${run.name}.txt`);
  const anchorOut = `${file}.out`;
  writeFileSync(file, input);
  await b.s.blobs.putBytes(b.bucket, `in/job16-${run.name}/input.txt`, input);
  const mod = { module: 'wordcount.mjs' };
  const numMappers = 2 * o.workers;
  const single: number[] = [];
  const framework: number[] = [];
  let mapTasks = 0;
  for (let rep = 0; rep < o.reps; rep++) {
    single.push(await timed(process.execPath, [run.singleJs, file, anchorOut]));
    const r = await b.run(
      {
        input: b.uri(`in/job16-${run.name}/`),
        output: b.uri(`out/job16-${run.name}-${rep}/`),
        mapper: mod,
        combiner: mod,
        reducer: mod,
        files: [run.codeUri],
        numReducers: 2,
        numMappers,
      },
      20,
    );
    const d = diffCounts(readFileSync(anchorOut, 'utf8'), r.output);
    if (d) throw new Error(`16 MiB job output differs from the single process: ${d}`);
    framework.push(r.seconds);
    mapTasks = r.job.numMaps;
  }
  return { bytes: input.length, map_tasks: mapTasks, single_process_s: single, framework_s: framework };
}
