/**
 * The examples/ word count as a job on a test stack (3 maps, 2 reduces), and the check of
 * its output and input counter against `cat | map | sort | reduce` of the same files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { JobRecord } from '../../core/model.js';
import { waitFor } from './wait.js';
import { example, sortedLines, type TestStack, unixPipeline } from './stack.js';

export interface WordCountJob {
  readonly jobId: string;
  readonly output: string;
  /** The job record once the coordinator made it RUNNING. */
  readonly created: JobRecord;
  readonly files: Readonly<Record<string, Buffer>>;
}

/** Submit the example word count under `tag` (its input, code and output prefixes) and wait until it runs. */
export async function startExampleWordCount(t: TestStack, tag: string): Promise<WordCountJob> {
  const dataDir = example('data');
  const files: Record<string, Buffer> = {};
  for (const f of readdirSync(dataDir)) files[f] = readFileSync(path.join(dataDir, f));
  const output = `s3://${t.bucket}/out/${tag}/`;
  const jobId = await t.submit({
    input: await t.putInput(`in/${tag}/`, files),
    output,
    mapper: 'wc_map.sh',
    reducer: 'wc_reduce.sh',
    files: [
      await t.putFile(example('wordcount/wc_map.sh'), `code/${tag}/wc_map.sh`),
      await t.putFile(example('wordcount/wc_reduce.sh'), `code/${tag}/wc_reduce.sh`),
    ],
    numMappers: 3,
    numReducers: 2,
  });
  const created = await waitFor('the coordinator to create the job', async () => {
    const j = await t.job(jobId);
    return j?.status === 'RUNNING' ? j : undefined;
  });
  return { jobId, output, created, files };
}

/** The finished job's parts equal the Unix pipeline's output, and every input line was counted once. */
export async function expectWordCountOutput(t: TestStack, w: WordCountJob, job: JobRecord): Promise<void> {
  const all = Buffer.concat(Object.keys(w.files).sort().map((k) => w.files[k] as Buffer));
  const expected = unixPipeline(all, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
  expect(sortedLines(await t.readParts(w.output, 2))).toEqual(sortedLines(expected));
  expect(job.counters['mapreduce.MAP_INPUT_RECORDS']).toBe(sortedLines(all).length);
}
