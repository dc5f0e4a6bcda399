/**
 * Acceptance 1: SIGKILL a worker in the middle of a map task, and in another run
 * in the middle of a reduce task. The checker reclaims the task once the dead
 * worker's lease and heartbeat are stale, another worker redoes it, and the job's
 * output is byte-identical to a clean run of the same job on the same stack.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import { startFaultStack } from '../helpers/emulators.js';
import { expectIdenticalParts, sortedCounters } from '../helpers/index-job.js';
import { type CleanIndexRun, cleanIndexRun, expectRedoneAfterStall, killAndReplaceWorker } from '../helpers/killed-task.js';
import type { TestStack } from '../helpers/stack.js';
import { saveWorkerLogs } from '../helpers/worker-logs.js';
import { waitForRunningTask } from '../helpers/worker-processes.js';

describe('a worker SIGKILLed in the middle of a task', () => {
  let t: TestStack;
  let ref: CleanIndexRun;

  beforeAll(async () => {
    t = await startFaultStack({ workers: 2 });
    // Each attempt sleeps first, so "in the middle" lasts long enough to hit.
    ref = await cleanIndexRun(t, 'kill', { MAP_SLEEP: '2', REDUCE_SLEEP: '2' });
  });

  afterAll(async () => {
    saveWorkerLogs(t, 'kill');
    await t?.stop();
  });

  for (const kind of ['map', 'reduce'] as const) {
    it(`${kind} task: the task is redone after the lease expires and the output is byte-identical`, async () => {
      const output = `s3://${t.bucket}/out/kill-${kind}/`;
      const jobId = await t.submit({ ...ref.base, output } as ManifestInput);
      const victim = await waitForRunningTask(t, jobId, kind, 300);
      await killAndReplaceWorker(t, victim.owner);

      // Taken back once and committed by a later attempt, of another worker.
      const { job, task } = await expectRedoneAfterStall(t, jobId, kind, victim);
      expect(task?.owner).not.toBe(victim.owner);

      expectIdenticalParts(await t.readParts(output, 2), ref.clean, `output after killing a ${kind} worker`);
      // Counters are added by commits only, so the lost attempt left no trace in them.
      expect(sortedCounters(job)).toEqual(sortedCounters(ref.cleanJob));
    });
  }
});
