import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { example, sortedLines, TestStack, unixPipeline } from '../helpers/stack.js';

describe('word count with shell executables (S3 upload → coordinator → workers → part files)', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('matches cat | map | LC_ALL=C sort | reduce with 2 reducers, and writes _SUCCESS', async () => {
    const dataDir = example('data');
    const files: Record<string, Buffer> = {};
    for (const f of readdirSync(dataDir)) files[f] = readFileSync(path.join(dataDir, f));
    files['with-empty-line.txt'] = Buffer.from('one two\n\n two three\n');
    const input = await t.putInput('in/wc/', files);
    const mapper = await t.putFile(example('wordcount/wc_map.sh'), 'code/wc/wc_map.sh');
    const reducer = await t.putFile(example('wordcount/wc_reduce.sh'), 'code/wc/wc_reduce.sh');
    const output = `s3://${t.bucket}/out/wc/`;
    const jobId = await t.submit({
      input,
      output,
      mapper: 'wc_map.sh',
      reducer: 'wc_reduce.sh',
      files: [mapper, reducer],
      numReducers: 2,
    });
    const job = await t.waitForJob(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const parts = await t.readParts(output, 2);
    const all = Buffer.concat(Object.keys(files).sort().map((k) => files[k] as Buffer));
    const expected = unixPipeline(all, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
    expect(sortedLines(parts)).toEqual(sortedLines(expected));
    expect(await t.blobs.head(t.bucket, 'out/wc/_SUCCESS')).toBeDefined();
    expect(job.counters['mapreduce.REDUCE_OUTPUT_RECORDS']).toBe(sortedLines(expected).length);
  });
});
