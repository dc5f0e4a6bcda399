/**
 * Acceptance 6: a mapper that always exits 1. Its job FAILS after 4 attempts with a
 * reason naming the task and quoting the mapper's stderr; a second job running on
 * the same workers at the same time succeeds.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultStack } from '../helpers/emulators.js';
import { FAILING_MAPPER, putScript } from '../helpers/index-job.js';
import { example, sortedLines, type TestStack, unixPipeline } from '../helpers/stack.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';

describe('a mapper that always exits 1', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startFaultStack({ workers: 2 });
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'poison');
    await t?.stop();
  });

  it('fails its job after 4 attempts with a clear reason, while another job succeeds', async () => {
    const reducer = await t.putFile(example('wordcount/wc_reduce.sh'), 'code/poison/wc_reduce.sh');
    const badOut = `s3://${t.bucket}/out/bad/`;
    const bad = {
      input: await t.putInput('in/bad/', { 'one.txt': 'some input\nmore input\n' }),
      output: badOut,
      mapper: 'fail_map.sh',
      reducer: 'wc_reduce.sh',
      files: [await putScript(t, 'code/poison/fail_map.sh', FAILING_MAPPER), reducer],
      numReducers: 1,
    };
    const dataDir = example('data');
    const files: Record<string, Buffer> = {};
    for (const f of readdirSync(dataDir)) files[f] = readFileSync(path.join(dataDir, f));
    const goodOut = `s3://${t.bucket}/out/good/`;
    const good = {
      input: await t.putInput('in/good/', files),
      output: goodOut,
      mapper: 'wc_map.sh',
      reducer: 'wc_reduce.sh',
      files: [await t.putFile(example('wordcount/wc_map.sh'), 'code/poison/wc_map.sh'), reducer],
      numMappers: 3,
      numReducers: 2,
    };
    const [badId, goodId] = await Promise.all([t.submit(bad), t.submit(good)]);
    const [badJob, goodJob] = await Promise.all([finish(t, badId), finish(t, goodId)]);

    expect(badJob.status).toBe('FAILED');
    expect(badJob.reason).toContain('Task m-00000 failed after 4 attempts');
    expect(badJob.reason).toContain('fault-test: mapper refuses record 1 (exit 1)'); // the stderr tail
    const [task] = await t.s.tasks.list(badId, 'map');
    expect(task).toMatchObject({ status: 'FAILED', attempt: 4, failures: 4, stalls: 0 });
    expect(badJob.counters).toMatchObject({ 'mapreduce.FAILED_ATTEMPTS': 4, 'mapreduce.RETRIED_ATTEMPTS': 3 });
    expect(await t.blobs.hasAny(t.bucket, 'out/bad/')).toBe(false); // nothing written under a failed job's output

    expect(goodJob.status, goodJob.reason).toBe('SUCCEEDED');
    const all = Buffer.concat(Object.keys(files).sort().map((k) => files[k] as Buffer));
    const expected = unixPipeline(all, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
    expect(sortedLines(await t.readParts(goodOut, 2))).toEqual(sortedLines(expected));
  });
});
