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
import { RECYCLE_MAX_TASKS_ENV, WORKER_RECYCLE_EXIT_CODE } from '../../core/worker-recycle.js';
import { expectIdenticalParts, syntheticText } from '../helpers/index-job.js';
import { expectEveryTaskOnce, recycledAndExited, runRecycleIndexJob } from '../helpers/recycle-job.js';
import { TestStack } from '../helpers/stack.js';
import { saveWorkerLogs, workerLogRecords } from '../helpers/worker-logs.js';

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
    const clean = await runRecycleIndexJob(plain, 'recycle', input, MAPS, REDUCES);
    const got = await runRecycleIndexJob(recycling, 'recycle', input, MAPS, REDUCES);
    expectIdenticalParts(got.parts, clean.parts, 'output with a recycle after every task');
    expect(got.job.numMaps).toBe(MAPS);
    expect(plain.stack.recycledWorkers).toBe(0);

    await expectEveryTaskOnce(recycling, got, MAPS, REDUCES);

    // One recycle per task (a worker's first task is its last), each replaced by a new process.
    const { recycles, exited } = await recycledAndExited(recycling);
    const all = workerLogRecords(recycling);
    expect(recycles.length).toBeGreaterThanOrEqual(MAPS + REDUCES);
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
