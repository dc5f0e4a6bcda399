/**
 * Acceptance 2: every SQS task message is delivered twice. A test-only decorator
 * on Queue.sendAll (in this process for the coordinator and checker, preloaded
 * into the worker processes for the reduce trigger and retries) sends every
 * message twice. The output is identical to a clean run, every task ran once,
 * and the counters are not doubled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import { duplicateSends } from '../helpers/duplicate-sends.js';
import { startFaultStack } from '../helpers/emulators.js';
import { countWords, expectIdenticalParts, INDEX_MAPPER, INDEX_REDUCER, indexWordTotal, putScript, sortedCounters, syntheticText } from '../helpers/index-job.js';
import { queueDepth } from '../helpers/queues.js';
import type { TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';

describe('every task message delivered twice', () => {
  const dup = duplicateSends();
  let t: TestStack;

  beforeAll(async () => {
    t = await startFaultStack({ workers: 2, workerEnv: dup.workerEnv });
    dup.decorate(t.s.taskQueue); // the stack's in-process coordinator and checker send through this
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'duplicate-delivery');
    await t?.stop();
    dup.cleanup();
  });

  it('yields the clean run’s output and counters, and runs each task once', async () => {
    const input = syntheticText(300, 7);
    const base = {
      input: await t.putInput('in/dup/', { 'words.txt': input }),
      mapper: 'index_map.sh',
      reducer: 'index_reduce.sh',
      files: [
        await putScript(t, 'code/dup/index_map.sh', INDEX_MAPPER),
        await putScript(t, 'code/dup/index_reduce.sh', INDEX_REDUCER),
      ],
      numMappers: 4,
      numReducers: 3,
    };
    const cleanOut = `s3://${t.bucket}/out/dup-clean/`;
    const cleanJob = await finish(t, await t.submit({ ...base, output: cleanOut } as ManifestInput));
    expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
    const clean = await t.readParts(cleanOut, 3);
    expect(indexWordTotal(clean)).toBe(countWords(input));
    await waitFor('the clean run’s messages to be gone', async () => (await queueDepth(t.s)) === 0, { timeoutMs: 30_000, intervalMs: 200 });

    dup.enable();
    const output = `s3://${t.bucket}/out/dup/`;
    const jobId = await t.submit({ ...base, output } as ManifestInput);
    const job = await finish(t, jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');

    // Every message of the job went out twice: the 4 map tasks from the coordinator, the
    // 3 reduce tasks from whoever started the reduce phase (a worker, or the checker).
    const { inProcess, workers } = dup.sent();
    const sentIds = [...inProcess, ...workers]
      .map((b) => JSON.parse(b) as { jobId: string; taskId: string })
      .filter((m) => m.jobId === jobId)
      .map((m) => m.taskId);
    expect([...new Set(sentIds)].sort()).toEqual([
      'm-00000',
      'm-00001',
      'm-00002',
      'm-00003',
      'r-00000',
      'r-00001',
      'r-00002',
    ]);
    // And both copies were delivered: the queue empties (the second copy's claim is refused and
    // the message deleted), rather than keeping copies nobody received.
    const drained = async () => (await queueDepth(t.s)) === 0;
    await waitFor('both copies of every message to be received and deleted', drained, { timeoutMs: 60_000, intervalMs: 200 });

    expectIdenticalParts(await t.readParts(output, 3), clean, 'output with every message delivered twice');
    expect(sortedCounters(job)).toEqual(sortedCounters(cleanJob));
    expect(job).toMatchObject({ mapsCommitted: 4, reducesCommitted: 3 });
    for (const task of await t.s.tasks.list(jobId)) {
      expect(task, task.taskId).toMatchObject({
        status: 'COMMITTED',
        attempt: 1,
        committedAttempt: 1,
        failures: 0,
        stalls: 0,
      });
    }
  });
});
