/**
 * Worker recycling (core/worker-recycle.ts): with a recycle forced after every task
 * (MR_WORKER_RECYCLE_MAX_TASKS=1), each worker process runs one task, exits with
 * WORKER_RECYCLE_EXIT_CODE between tasks and the local stack starts another at once. A job
 * of 16 maps and 2 reduces gives output byte-identical to the same job on a stack that
 * never recycles, every task runs exactly once (one claim, attempt 1, no stall, no
 * failure), no recycling worker took a message it had to give back, and each removed its
 * heartbeat item as a normal stop does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import type { ManifestInput } from '../../core/manifest.js';
import { RECYCLE_MAX_TASKS_ENV, WORKER_RECYCLE_EXIT_CODE } from '../../core/worker-recycle.js';
import { expectIdenticalParts, indexJobBase, syntheticText } from '../helpers/index-job.js';
import { TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs, workerLogRecords } from '../helpers/worker-logs.js';

const MAPS = 16;
const REDUCES = 2;

describe('worker recycling between tasks', () => {
  let plain: TestStack;
  let recycling: TestStack;
  beforeAll(async () => {
    plain = await TestStack.start({ workers: 2 });
    recycling = await TestStack.start({ workers: 2, workerEnv: { [RECYCLE_MAX_TASKS_ENV]: '1' } });
  }, 120_000);
  afterAll(async () => {
    saveWorkerLogs(recycling, 'worker-recycle');
    await recycling?.stop();
    await plain?.stop();
  });

  it('replaces the worker after each task; output identical, no task dropped or run twice', async () => {
    const input = syntheticText(4000, 7);
    const run = async (t: TestStack) => {
      const base = await indexJobBase(t, 'recycle', input, {});
      const output = `s3://${t.bucket}/out/recycle/`;
      const jobId = await t.submit({ ...base, numMappers: MAPS, numReducers: REDUCES, output } as ManifestInput);
      const job = await finish(t, jobId, 180_000);
      expect(job.status, job.reason).toBe('SUCCEEDED');
      return { jobId, job, parts: await t.readParts(output, REDUCES) };
    };
    const clean = await run(plain);
    const got = await run(recycling);
    expectIdenticalParts(got.parts, clean.parts, 'output with a recycle after every task');
    expect(got.job.numMaps).toBe(MAPS);
    expect(plain.stack.recycledWorkers).toBe(0);

    // Every task: committed once, by its first attempt, claimed once.
    const tasks = [...(await recycling.s.tasks.list(got.jobId, 'map')), ...(await recycling.s.tasks.list(got.jobId, 'reduce'))];
    expect(tasks).toHaveLength(MAPS + REDUCES);
    for (const task of tasks) expect(task, task.taskId).toMatchObject({ status: 'COMMITTED', committedAttempt: 1, stalls: 0, failures: 0 });
    expect(got.job.counters['mapreduce.FAILED_ATTEMPTS']).toBeUndefined();
    const records = workerLogRecords(recycling, { jobId: got.jobId });
    const claims = records.filter((r) => r.message === LOG_EVENTS.taskClaimed).map((r) => r.taskId);
    expect(claims.sort()).toEqual(tasks.map((x) => x.taskId).sort());

    // One recycle per task (a worker's first task is its last), each replaced by a new process.
    // The last may still be stopping when the job ends: wait for every recycling worker's exit.
    const exitedProcesses = () => recycling.stack.workerProcesses.filter((c) => c.exitCode !== null || c.signalCode !== null);
    const recycleRecords = () => workerLogRecords(recycling).filter((r) => r.message === LOG_EVENTS.workerRecycling);
    await waitFor('every recycling worker to exit', async () => exitedProcesses().length === recycleRecords().length || undefined, { timeoutMs: 30_000 });
    const all = workerLogRecords(recycling);
    const recycles = recycleRecords();
    expect(recycles.length).toBeGreaterThanOrEqual(MAPS + REDUCES);
    const exited = exitedProcesses();
    expect(exited.length).toBe(recycles.length);
    for (const c of exited) expect(c.exitCode).toBe(WORKER_RECYCLE_EXIT_CODE);
    expect(recycling.stack.recycledWorkers).toBe(recycles.length);
    expect(recycling.stack.liveWorkers()).toHaveLength(2);
    // Stopped before receiving: nothing taken and given back.
    expect(all.filter((r) => r.message === LOG_EVENTS.messageReleasedOnStop)).toHaveLength(0);
    // Heartbeat items removed as a normal stop does: only the two live workers are left.
    const live = new Set(all.filter((r) => r.message === LOG_EVENTS.workerStarted).map((r) => r.workerId));
    const stopped = new Set(all.filter((r) => r.message === LOG_EVENTS.workerStopped).map((r) => r.workerId));
    const listed = (await recycling.s.workers.list()).map((w) => w.workerId);
    expect(listed.filter((id) => stopped.has(id))).toEqual([]);
    expect(listed.every((id) => live.has(id))).toBe(true);
  }, 300_000);
});
