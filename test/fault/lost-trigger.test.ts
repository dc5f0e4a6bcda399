/**
 * Acceptance 5: a crash between the last map commit and the reduce trigger. The map
 * tasks are run in-process by the real task runner whose commit "crashes" right after
 * the commit transaction, so no worker ever reads the job back to start the reduce
 * phase. No worker process exists until the phase has changed, so only the local
 * stack's checker can start it; then workers run the reduces and the job completes.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttemptRef, type CommitOutcome, TaskStore } from '../../aws/task-store.js';
import { runInProcess } from '../helpers/in-process-worker.js';
import { startFaultStack } from '../helpers/emulators.js';
import type { TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';
import { expectWordCountOutput, startExampleWordCount } from '../helpers/example-wordcount.js';

/** A task store whose map commits succeed and then "crash" the worker before it does anything else. */
class CrashAfterMapCommit extends TaskStore {
  commits = 0;
  override async commit(...args: Parameters<TaskStore['commit']>): Promise<CommitOutcome> {
    const outcome = await super.commit(...args);
    const ref: AttemptRef = args[0];
    if (!ref.taskId.startsWith('m-')) return outcome;
    this.commits++;
    throw new Error(`simulated crash right after committing ${ref.taskId}`);
  }
}

describe('a crash between the last map commit and the reduce trigger', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startFaultStack({ workers: 0 });
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'lost-trigger');
    await t?.stop();
  });

  it('the checker starts the reduce phase and the job completes', async () => {
    const wc = await startExampleWordCount(t, 'trigger');
    const { jobId, created } = wc;
    expect(created.numMaps).toBeGreaterThanOrEqual(2);

    // The in-process map worker: the real task runner, with a commit that crashes after the transaction.
    const crashing = new CrashAfterMapCommit(t.s.clients, t.s.names.table);
    const workerId = 'crashes-after-commit';
    await runInProcess({
      s: { ...t.s, tasks: crashing },
      workerId,
      scratchDir: path.join(t.dir, 'in-process'),
      mine: (m) => m.jobId === jobId && m.taskId.startsWith('m-'),
      done: async () => (await t.s.tasks.list(jobId, 'map')).every((x) => x.status === 'COMMITTED'),
    });
    expect(crashing.commits).toBe(created.numMaps);

    // Nobody ran the trigger; no worker process exists. The checker must start the reduce phase.
    expect(t.stack.workerProcesses).toHaveLength(0);
    const reducing = await waitFor(
      'the checker to start the reduce phase',
      async () => {
        const j = await t.job(jobId);
        return j?.phase === 'REDUCE' && j.reduceEnqueuedAt ? j : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(reducing.mapsCommitted).toBe(created.numMaps);
    expect((await t.s.tasks.list(jobId, 'reduce')).every((x) => x.status === 'PENDING' && x.attempt === 0)).toBe(true);

    t.stack.spawnWorker();
    t.stack.spawnWorker();
    const job = await finish(t, jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    for (const task of await t.s.tasks.list(jobId, 'map')) {
      expect(task).toMatchObject({ status: 'COMMITTED', owner: workerId, attempt: 1, committedAttempt: 1 });
    }
    await expectWordCountOutput(t, wc, job);
  });
});
