/**
 * Issue 17, lost responses: a claim, a heartbeat and a commit transaction that DynamoDB
 * applied but whose answer never reached the worker (the TaskStore below applies the write,
 * then throws the SDK's TimeoutError, as after a connection reset the retries could not
 * get past). The worker must recognise each as done: the task is not counted as failed,
 * not run twice, not left RUNNING, and the output and counters equal a clean run's.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttemptRef, TaskStore } from '../../aws/task-store.js';
import { startFaultStack } from '../helpers/emulators.js';
import type { TestStack } from '../helpers/stack.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';
import { runInProcess } from '../helpers/in-process-worker.js';
import { expectWordCountOutput, startExampleWordCount } from '../helpers/example-wordcount.js';

const timeout = () => Object.assign(new Error('socket hang up after the write'), { name: 'TimeoutError', code: 'ETIMEDOUT' });

/** Applies each write, then loses the answer of the planned ones (once each). */
class LosesAnswers extends TaskStore {
  readonly lost: string[] = [];
  claimsLost = new Set<string>();
  commitsLost = new Set<string>();
  heartbeatsLost = 0;

  override async claim(...args: Parameters<TaskStore['claim']>) {
    const t = await super.claim(...args);
    if (this.claimsLost.delete(args[1])) this.lose(`claim ${args[1]}`);
    return t;
  }

  override async commit(...args: Parameters<TaskStore['commit']>) {
    const out = await super.commit(...args);
    if (this.commitsLost.delete(args[0].taskId)) this.lose(`commit ${args[0].taskId}`);
    return out;
  }

  override async heartbeat(ref: AttemptRef, now: number, leaseMs: number) {
    await super.heartbeat(ref, now, leaseMs);
    if (this.heartbeatsLost > 0) {
      this.heartbeatsLost--;
      this.lose(`heartbeat ${ref.taskId}`);
    }
  }

  private lose(what: string): never {
    this.lost.push(what);
    throw timeout();
  }
}

describe('writes applied whose answers were lost', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startFaultStack({ workers: 0 });
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'lost-response');
    await t?.stop();
  });

  it('claim, heartbeat and commit answers lost: recognised as done, identical output, nothing doubled', async () => {
    const wc = await startExampleWordCount(t, 'lost-response');
    const { jobId, created } = wc;
    expect(created.numMaps).toBeGreaterThanOrEqual(3);

    const store = new LosesAnswers(t.s.clients, t.s.names.table);
    store.claimsLost = new Set(['m-00000']);
    store.commitsLost = new Set(['m-00001', 'r-00000']);
    store.heartbeatsLost = 3;
    const workerId = 'loses-answers';
    await runInProcess({
      s: { ...t.s, tasks: store },
      workerId,
      scratchDir: path.join(t.dir, 'in-process'),
      mine: (m) => m.jobId === jobId,
      done: async () => (await t.job(jobId))?.status !== 'RUNNING',
      timeoutMs: 90_000,
    });
    // Heartbeats are lost only if a task runs long enough to extend its lease (not asserted).
    expect(store.lost.filter((x) => !x.startsWith('heartbeat'))).toEqual(['claim m-00000', 'commit m-00001', 'commit r-00000']);

    const job = await finish(t, jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    // Every task ran once, by this worker, and committed on its first attempt: no failure,
    // no stall, one history entry.
    for (const task of await t.s.tasks.list(jobId)) {
      expect(task, task.taskId).toMatchObject({ status: 'COMMITTED', owner: workerId, attempt: 1, committedAttempt: 1, failures: 0, stalls: 0 });
      expect(task.history?.map((h) => [h.attempt, h.outcome]), task.taskId).toEqual([[1, 'committed']]);
    }
    // Output as the Unix pipeline's, counters added once per task although two commits were "sent twice".
    await expectWordCountOutput(t, wc, job);
    expect(job.counters['mapreduce.FAILED_ATTEMPTS']).toBeUndefined();
  });
});
