/**
 * Issue 17, lost answers injected deterministically through the fault proxy (rules on
 * X-Amz-Target + body, test/helpers/fault-proxy.ts): the workers' requests reach the
 * emulator and are applied, and the answer is dropped (connection reset) or never sent.
 * - the claim's answer, one heartbeat's and the commit transaction's lost: the job ends
 *   with output byte-identical to a clean run, data counters equal (not doubled), every
 *   task committed by its first attempt with no failure and no stall;
 * - one heartbeat black-holed: the lease write's per-try deadline (leaseWriteAttemptMs, a
 *   third of the 5 s lease here) cuts it and the retry extends the lease, so the healthy
 *   attempt is not reclaimed (with the 10 s DynamoDB deadline it outlasted the lease).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord } from '../../core/model.js';
import { Counters, frameworkCounter } from '../../core/reporter.js';
import { startProxiedStack } from '../helpers/emulators.js';
import { FaultProxy, type FaultRule } from '../helpers/fault-proxy.js';
import { dataCounters, expectIdenticalParts, putScript, syntheticText } from '../helpers/index-job.js';
import { example, sortedLines, TestStack, unixPipeline } from '../helpers/stack.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';


const UPDATE = 'DynamoDB_20120810.UpdateItem';
const TRANSACT = 'DynamoDB_20120810.TransactWriteItems';
/** Request bodies of the claim, the lease extension and the commit (aws/task-writes.ts). */
const CLAIM = 'SET #status = :running, #owner = :owner';
const HEARTBEAT = 'SET leaseExpiresAt = :lease';
const COMMIT = ':committed';

/** 1 s beats, 5 s leases: a lease write try is cut after 1.67 s. */
const TIMINGS = { heartbeatMs: 1000, missedHeartbeats: 5 };
const REDUCERS = 2;
/** Each map attempt outlasts its claim's lease (5 s): it commits only if lease writes landed. */
const SLOW_MAP = '#!/bin/sh\nsleep 8\nexec ./wc_map.sh\n';

describe('lost answers of claim, heartbeat and commit, through the proxy', () => {
  let proxy: FaultProxy;
  let t: TestStack;
  let base: Omit<ManifestInput, 'output'>;
  let clean: Buffer[];
  let cleanJob: JobRecord;
  const input = syntheticText(120, 7);

  beforeAll(async () => {
    // Only the workers go through the proxy (their AWS_ENDPOINT_URL); the stack and the test do not.
    ({ t, proxy } = await startProxiedStack({ seed: 5, maxLifetimeMs: 600_000 }, { workers: 2, timings: TIMINGS }));
    base = {
      input: await t.putInput('in/lost/', { 'words.txt': input }),
      mapper: 'slow_map.sh',
      reducer: 'wc_reduce.sh',
      files: [
        await putScript(t, 'code/lost/slow_map.sh', SLOW_MAP),
        await t.putFile(example('wordcount/wc_map.sh'), 'code/lost/wc_map.sh'),
        await t.putFile(example('wordcount/wc_reduce.sh'), 'code/lost/wc_reduce.sh'),
      ],
      numMappers: 2,
      numReducers: REDUCERS,
    } as Omit<ManifestInput, 'output'>;
    const output = `s3://${t.bucket}/out/lost-clean/`;
    cleanJob = await finish(t, await t.submit({ ...base, output } as ManifestInput), 120_000);
    expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
    clean = await t.readParts(output, REDUCERS);
    const expected = unixPipeline(input, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
    expect(sortedLines(clean)).toEqual(sortedLines(expected));
  }, 300_000);

  afterAll(async () => {
    saveWorkerLogs(t, 'lost-answers-proxy');
    await t?.stop();
  });

  async function runWith(tag: string, rules: FaultRule[]): Promise<string> {
    const output = `s3://${t.bucket}/out/${tag}/`;
    const jobId = await t.submit({ ...base, output } as ManifestInput);
    const job = await finish(t, jobId, 120_000);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    for (const r of rules) expect(r.hits, `${r.fault} of ${r.bodyIncludes}`).toBe(1);
    expectIdenticalParts(await t.readParts(output, REDUCERS), clean, `output of ${tag}`);
    expect(dataCounters(job)).toEqual(dataCounters(cleanJob));
    expect(job.counters[frameworkCounter(Counters.FAILED_ATTEMPTS)] ?? 0).toBe(0);
    return jobId;
  }

  it('the claim, a heartbeat and the commit answered with a reset: one attempt each, identical output', async () => {
    const rules = [
      proxy.addRule({ target: UPDATE, bodyIncludes: CLAIM, fault: 'resetBefore', times: 1 }),
      proxy.addRule({ target: UPDATE, bodyIncludes: HEARTBEAT, fault: 'resetBefore', times: 1 }),
      proxy.addRule({ target: TRANSACT, bodyIncludes: COMMIT, fault: 'resetBefore', times: 1 }),
    ];
    const jobId = await runWith('lost-answers', rules);
    for (const task of await t.s.tasks.list(jobId)) {
      expect([task.taskId, task.status, task.attempt, task.failures, task.stalls]).toEqual([task.taskId, 'COMMITTED', 1, 0, 0]);
    }
  }, 180_000);

  it('one heartbeat black-holed: cut and retried inside the lease, the attempt is not reclaimed', async () => {
    const rule = proxy.addRule({ target: UPDATE, bodyIncludes: HEARTBEAT, fault: 'blackhole', times: 1 });
    const jobId = await runWith('blackholed-beat', [rule]);
    for (const task of await t.s.tasks.list(jobId)) {
      expect([task.taskId, task.attempt, task.stalls]).toEqual([task.taskId, 1, 0]);
    }
  }, 180_000);
});
