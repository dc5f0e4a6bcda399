/**
 * Issue 17, network faults: the workers' AWS traffic goes through the fault proxy
 * (test/helpers/fault-proxy.ts); the stack process and the test itself talk to the
 * emulator directly. A word count of 10 maps and 3 reducers on 3 worker processes:
 * - at 5 % of each fault kind (errors, latency, resets before and mid-body) and 0.5 %
 *   black-holes, the output is byte-identical to a clean run through the same proxy and
 *   to `cat | map | sort | reduce`, the record counters equal the clean run's, and the job
 *   ends within a bounded wait;
 * - with every S3 request answered `SlowDown` for 30 s, then healed, the same holds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord } from '../../core/model.js';
import { startProxiedStack } from '../helpers/emulators.js';
import { FaultProxy, NO_FAULTS } from '../helpers/fault-proxy.js';
import { dataCounters, expectIdenticalParts, syntheticText } from '../helpers/index-job.js';
import { example, sortedLines, TestStack, unixPipeline } from '../helpers/stack.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';


const REDUCERS = 3;
/**
 * Leases longer than the slowest answer the proxy makes a worker wait for: a 3 s latency
 * spike, or a black-holed DynamoDB request cut by its 10 s answer deadline
 * (REQUEST_TIMEOUT_MS in aws/clients.ts) and retried. SHORT_TIMINGS' 1 s lease would end
 * for real under a single spike. 500 ms beats keep the checker's view of dead workers quick.
 */
const TIMINGS = { heartbeatMs: 500, missedHeartbeats: 30 };
/** A bounded wait: a hang fails the test instead of blocking the suite. */
const JOB_DEADLINE_MS = 240_000;

describe('workers behind a fault-injecting proxy', () => {
  let proxy: FaultProxy;
  let t: TestStack;
  let base: Omit<ManifestInput, 'output'>;
  let clean: Buffer[];
  let cleanJob: JobRecord;
  const input = syntheticText(300);

  beforeAll(async () => {
    // Only the workers go through the proxy (their AWS_ENDPOINT_URL); the stack and the test do not.
    ({ t, proxy } = await startProxiedStack({ seed: 17, maxLifetimeMs: 900_000 }, { workers: 3, timings: TIMINGS }));
    base = {
      input: await t.putInput('in/net/', { 'words.txt': input }),
      mapper: 'wc_map.sh',
      reducer: 'wc_reduce.sh',
      files: [
        await t.putFile(example('wordcount/wc_map.sh'), 'code/net/wc_map.sh'),
        await t.putFile(example('wordcount/wc_reduce.sh'), 'code/net/wc_reduce.sh'),
      ],
      numMappers: 10,
      numReducers: REDUCERS,
    } as Omit<ManifestInput, 'output'>;
    const output = `s3://${t.bucket}/out/net-clean/`;
    cleanJob = await finish(t, await t.submit({ ...base, output } as ManifestInput), JOB_DEADLINE_MS);
    expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
    clean = await t.readParts(output, REDUCERS);
    // The reference itself is right, and the clean run went through the proxy without a fault.
    const expected = unixPipeline(input, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
    expect(sortedLines(clean)).toEqual(sortedLines(expected));
    expect(proxy.counts.forwarded).toBeGreaterThan(0);
  }, 600_000);

  afterAll(async () => {
    saveWorkerLogs(t, 'net-faults');
    await t?.stop();
  });

  async function runAndCompare(tag: string): Promise<JobRecord> {
    const output = `s3://${t.bucket}/out/${tag}/`;
    const jobId = await t.submit({ ...base, output } as ManifestInput);
    const job = await finish(t, jobId, JOB_DEADLINE_MS);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    expect((await t.s.tasks.list(jobId, 'map')).length).toBeGreaterThanOrEqual(8);
    expectIdenticalParts(await t.readParts(output, REDUCERS), clean, `output of ${tag}`);
    expect(dataCounters(job)).toEqual(dataCounters(cleanJob));
    return job;
  }

  it('5 % errors, latency spikes and resets, 0.5 % black-holes: identical output, counters not doubled', async () => {
    const before = { ...proxy.counts };
    proxy.setRates({ error: 0.05, latency: 0.05, resetBefore: 0.05, resetMidBody: 0.05, blackhole: 0.005 });
    try {
      await runAndCompare('net-faults');
    } finally {
      proxy.setRates(NO_FAULTS);
    }
    const injected = Object.fromEntries(
      (['error', 'latency', 'resetBefore', 'resetMidBody', 'blackhole', 'requests'] as const).map((k) => [k, proxy.counts[k] - before[k]]),
    );
    console.log('net-faults injected', JSON.stringify(injected));
    for (const k of ['error', 'latency', 'resetBefore', 'resetMidBody', 'blackhole'] as const) {
      expect(injected[k], `${k} faults injected`).toBeGreaterThan(0);
    }
  }, 600_000);

  it('every S3 request answered SlowDown for 30 s, then healed: the job completes with identical output', async () => {
    const before = proxy.counts.outage;
    proxy.failAll('s3', 30_000);
    await runAndCompare('s3-outage');
    console.log('s3-outage answers', proxy.counts.outage - before);
    expect(proxy.counts.outage - before).toBeGreaterThan(0);
  }, 600_000);
});
