/**
 * Acceptance 1: SIGKILL a worker in the middle of a map task, and in another run
 * in the middle of a reduce task. The checker reclaims the task once the dead
 * worker's lease and heartbeat are stale, another worker redoes it, and the job's
 * output is byte-identical to a clean run of the same job on the same stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord } from '../../core/model.js';
import { startFaultStack } from '../helpers/emulators.js';
import { countWords, expectIdenticalParts, indexJobBase, indexWordTotal, sortedCounters, syntheticText } from '../helpers/index-job.js';
import type { TestStack } from '../helpers/stack.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';
import { exited, signalWorker, waitForRunningTask } from '../helpers/worker-processes.js';

describe('a worker SIGKILLed in the middle of a task', () => {
  let t: TestStack;
  let base: Omit<ManifestInput, 'output'>;
  let clean: Buffer[];
  let cleanJob: JobRecord;
  const input = syntheticText(400);

  beforeAll(async () => {
    t = await startFaultStack({ workers: 2 });
    // Each attempt sleeps first, so "in the middle" lasts long enough to hit.
    base = await indexJobBase(t, 'kill', input, { MAP_SLEEP: '2', REDUCE_SLEEP: '2' });
    const output = `s3://${t.bucket}/out/kill-clean/`;
    cleanJob = await finish(t, await t.submit({ ...base, output } as ManifestInput));
    expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
    clean = await t.readParts(output, 2);
    // The reference itself must be right: every input word counted once.
    const why = JSON.stringify({ counters: cleanJob.counters, tasks: await t.s.tasks.list(cleanJob.jobId) });
    expect(indexWordTotal(clean), why).toBe(countWords(input));
  });

  afterAll(async () => {
    saveWorkerLogs(t, 'kill');
    await t?.stop();
  });

  for (const kind of ['map', 'reduce'] as const) {
    it(`${kind} task: the task is redone after the lease expires and the output is byte-identical`, async () => {
      const output = `s3://${t.bucket}/out/kill-${kind}/`;
      const jobId = await t.submit({ ...base, output } as ManifestInput);
      const victim = await waitForRunningTask(t, jobId, kind, 300);
      const child = signalWorker(t, victim.owner, 'SIGKILL');
      await exited(child);
      expect(child.signalCode).toBe('SIGKILL');
      t.stack.spawnWorker(); // the fleet replaces a dead worker, as ECS does

      const job = await finish(t, jobId);
      expect(job.status, job.reason).toBe('SUCCEEDED');
      const task = (await t.s.tasks.list(jobId, kind)).find((x) => x.taskId === victim.taskId);
      // The killed attempt never committed: the checker took the task back once (a stall, not a
      // failure) and a later attempt of another worker committed it.
      expect(task).toMatchObject({ status: 'COMMITTED', stalls: 1, failures: 0 });
      expect(task?.committedAttempt).toBeGreaterThan(victim.attempt);
      expect(task?.owner).not.toBe(victim.owner);

      expectIdenticalParts(await t.readParts(output, 2), clean, `output after killing a ${kind} worker`);
      // Counters are added by commits only, so the lost attempt left no trace in them.
      expect(sortedCounters(job)).toEqual(sortedCounters(cleanJob));
    });
  }
});
