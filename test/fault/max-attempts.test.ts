/**
 * Issue 11 acceptance: a stalled task of a job with `maxAttempts: 1` fails the job after
 * one attempt. The worker running a map task is SIGKILLed (and, in a second run,
 * SIGSTOPped: alive but silent), so its lease stops being extended; the checker takes the
 * task back under the job's own maxAttempts (not the deployment default of 4), which makes
 * that one stall the last attempt: the task and the job fail with the reason, and no second
 * attempt starts even though another worker is idle.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import { startFaultStack } from '../helpers/emulators.js';
import { INDEX_MAPPER, INDEX_REDUCER, putScript, syntheticText } from '../helpers/index-job.js';
import type { TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';
import { exited, signalWorker, waitForRunningTask } from '../helpers/worker-processes.js';

describe('a stalled task of a job with maxAttempts: 1', () => {
  let t: TestStack;
  let base: Omit<ManifestInput, 'output'>;

  beforeAll(async () => {
    t = await startFaultStack({ workers: 2 });
    expect(t.stack.options.timings.maxAttempts, 'the deployment default allows retries').toBeGreaterThan(1);
    const files = [
      await putScript(t, 'code/max1/index_map.sh', INDEX_MAPPER),
      await putScript(t, 'code/max1/index_reduce.sh', INDEX_REDUCER),
    ];
    base = {
      input: await t.putInput('in/max1/', { 'words.txt': syntheticText(200) }),
      mapper: 'index_map.sh',
      reducer: 'index_reduce.sh',
      files,
      numMappers: 2,
      numReducers: 1,
      maxAttempts: 1,
      // Each map attempt sleeps first, so the signal lands in the middle of it.
      env: { MAP_SLEEP: '3' },
    } as Omit<ManifestInput, 'output'>;
  });

  afterAll(async () => {
    saveWorkerLogs(t, 'max-attempts');
    await t?.stop();
  });

  for (const signal of ['SIGKILL', 'SIGSTOP'] as const) {
    it(`${signal}: the job fails after one attempt, with the reason, and the task is not run again`, async () => {
      const output = `s3://${t.bucket}/out/max1-${signal}/`;
      const jobId = await t.submit({ ...base, output } as ManifestInput);
      // Both maps claimed before the signal: the worker spawned after the previous case may
      // still be starting, and a map nobody claimed before the job failed has no attempt to check.
      await waitFor('both maps to be claimed', async () => {
        const maps = await t.s.tasks.list(jobId, 'map');
        return maps.length === 2 && maps.every((m) => m.attempt >= 1) ? maps : undefined;
      });
      const victim = await waitForRunningTask(t, jobId, 'map', 300);
      const child = signalWorker(t, victim.owner, signal);
      try {
        const job = await finish(t, jobId);
        expect(job.status).toBe('FAILED');
        expect(job.reason).toContain(victim.taskId);
        expect(job.reason).toContain('after 1 attempt');
        const task = (await t.s.tasks.list(jobId, 'map')).find((x) => x.taskId === victim.taskId);
        // One attempt, taken back by the checker as a stall, and never claimed again.
        expect(task).toMatchObject({ status: 'FAILED', attempt: 1, stalls: 1, failures: 0 });
        expect(task?.history).toMatchObject([{ attempt: 1, worker: victim.owner, outcome: 'reclaimed' }]);
        expect(await t.blobs.hasAny(t.bucket, `out/max1-${signal}/_SUCCESS`)).toBe(false);
        // The other map's attempt (a worker process) ended too, committed or cancelled with its
        // job, and its history entry counts the AWS requests it made.
        const other = (await t.s.tasks.list(jobId, 'map')).find((x) => x.taskId !== victim.taskId);
        const entry = await waitFor('the other map attempt to end', async () =>
          (await t.s.tasks.list(jobId, 'map')).find((x) => x.taskId === other?.taskId)?.history?.[0],
        );
        expect(["committed", "cancelled"], JSON.stringify(entry)).toContain(entry.outcome);
        expect(entry.requests, JSON.stringify(entry)).toBeDefined();
        expect(entry.requests?.["DynamoDB.UpdateItem"] ?? 0, JSON.stringify(entry)).toBeGreaterThan(0);
      } finally {
        if (signal === 'SIGSTOP') child.kill('SIGKILL');
        await exited(child);
        t.stack.spawnWorker();
      }
    });
  }
});
