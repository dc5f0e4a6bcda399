import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerSettingsFromEnv } from '../../core/config.js';
import { heapNodeArgs, LOCAL_WORKER_MEMORY_MIB, workerHeapMiB } from '../../core/worker-heap.js';
import { COUNTED_FORMAT } from '../../core/counted-lines.js';
import { tmpPrefix } from '../../core/layout.js';
import { newJobId } from '../../core/model.js';
import { waitFor } from '../helpers/wait.js';
import { example, sortedLines, TestStack, unixPipeline } from '../helpers/stack.js';

describe('word count with shell executables (S3 upload → coordinator → workers → part files)', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('starts its workers with the default heap limit, which holds the default sort buffer', () => {
    const heap = workerHeapMiB({ memoryMiB: LOCAL_WORKER_MEMORY_MIB, sortBufferBytes: workerSettingsFromEnv({}).sortBufferBytes });
    for (const w of t.stack.workerProcesses) {
      const argv = readFileSync(`/proc/${w.pid!}/cmdline`, 'latin1').split('\0');
      for (const arg of heapNodeArgs(heap)) expect(argv).toContain(arg);
    }
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
    const jobId = newJobId();
    // Objects of other jobs whose ids start like this one: the cleanup must leave them.
    const others = [`tmp/${jobId}x/map/m-00000/attempt-1`, `tmp/x${jobId}/map/m-00000/attempt-1`];
    for (const k of others) await t.blobs.putBytes(t.bucket, k, 'other job');
    await t.submit({
      input,
      output,
      mapper: 'wc_map.sh',
      reducer: 'wc_reduce.sh',
      files: [mapper, reducer],
      numReducers: 2,
    }, jobId);
    const job = await t.waitForJob(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const parts = await t.readParts(output, 2);
    const all = Buffer.concat(Object.keys(files).sort().map((k) => files[k] as Buffer));
    const expected = unixPipeline(all, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
    expect(sortedLines(parts)).toEqual(sortedLines(expected));
    expect(await t.blobs.head(t.bucket, 'out/wc/_SUCCESS')).toBeDefined();
    expect(job.counters['mapreduce.REDUCE_OUTPUT_RECORDS']).toBe(sortedLines(expected).length);
    // The word count's map outputs are in the counted form (each distinct `word\t1` once, with
    // its count), yet the record counters count every copy, as Hadoop's do.
    const maps = await t.s.tasks.list(jobId, 'map');
    expect(maps.some((m) => m.output?.format === COUNTED_FORMAT)).toBe(true);
    const mapped = unixPipeline(all, example('wordcount/wc_map.sh')).toString('latin1').split('\n').length - 1;
    expect(job.counters['mapreduce.MAP_OUTPUT_RECORDS']).toBe(mapped);
    expect(job.counters['mapreduce.REDUCE_INPUT_RECORDS']).toBe(mapped);
    // The finishing worker deletes the job's tmp/ (after SUCCEEDED, so it may still be at it).
    await waitFor('tmp/<job>/ to be empty', async () => ((await t.blobs.list(t.bucket, tmpPrefix(jobId))).length === 0 ? true : undefined), {
      timeoutMs: 30_000,
      detail: async () => (await t.blobs.list(t.bucket, tmpPrefix(jobId))).map((o) => o.key).join(', '),
    });
    for (const k of others) expect(await t.blobs.getText(t.bucket, k)).toBe('other job');
  });

  it('merges counted map outputs in passes (sortFactor 2, 3 maps) into the same output', async () => {
    const files: Record<string, Buffer> = {};
    for (const f of readdirSync(example('data'))) files[f] = readFileSync(path.join(example('data'), f));
    files['third.txt'] = Buffer.from('one two\n\n two three\n');
    const input = await t.putInput('in/wc-f2/', files);
    const mapper = await t.putFile(example('wordcount/wc_map.sh'), 'code/wc-f2/wc_map.sh');
    const reducer = await t.putFile(example('wordcount/wc_reduce.sh'), 'code/wc-f2/wc_reduce.sh');
    const output = `s3://${t.bucket}/out/wc-f2/`;
    const jobId = newJobId();
    await t.submit({ input, output, mapper: 'wc_map.sh', reducer: 'wc_reduce.sh', files: [mapper, reducer], numReducers: 1, sortFactor: 2 }, jobId);
    const job = await t.waitForJob(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const maps = await t.s.tasks.list(jobId, 'map');
    expect(maps.filter((m) => m.output?.format === COUNTED_FORMAT).length).toBeGreaterThanOrEqual(3);
    // These slices are small, so fetched into memory, and their intermediate merges stay in memory.
    expect(job.counters['mapreduce.REDUCE_MEMORY_MERGES']).toBeGreaterThanOrEqual(1);
    const all = Buffer.concat(Object.keys(files).sort().map((k) => files[k] as Buffer));
    const expected = unixPipeline(all, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
    expect((await t.readParts(output, 1)).join('')).toBe(expected.toString());
    const mapped = unixPipeline(all, example('wordcount/wc_map.sh')).toString('latin1').split('\n').length - 1;
    expect(job.counters['mapreduce.REDUCE_INPUT_RECORDS']).toBe(mapped);
  });
});
