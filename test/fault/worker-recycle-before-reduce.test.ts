/**
 * Worker recycling at the map -> reduce boundary (core/worker-recycle.ts `recycleBeforeTask`):
 * with the threshold set to 3 tasks, a worker process that ran 3 maps or more gives a reduce
 * task's message back, unclaimed, exits with WORKER_RECYCLE_EXIT_CODE, and the local stack
 * starts a fresh one, which claims it. A job of 16 maps and 2 reduces on 2 workers gives
 * output byte-identical to the same job on a stack that never recycles, every task runs
 * exactly once (one claim, attempt 1, no stall, no failure), and every reduce is claimed by
 * a process that had run fewer than 3 tasks.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMapTaskId } from '../../core/steps.js';
import { RECYCLED_WORKER_COMPILE_ARG, RECYCLED_WORKER_SEMI_SPACE_MIB } from '../../core/worker-heap.js';
import { RECYCLE_BEFORE_REDUCE_TASKS_ENV, WORKER_RECYCLE_EXIT_CODE } from '../../core/worker-recycle.js';
import { expectIdenticalParts, syntheticText } from '../helpers/index-job.js';
import { expectEveryTaskOnce, recycledAndExited, runRecycleIndexJob } from '../helpers/recycle-job.js';
import { TestStack } from '../helpers/stack.js';
import { saveWorkerLogs } from '../helpers/worker-logs.js';

const MAPS = 16;
const REDUCES = 2;
const THRESHOLD = 3;
/**
 * A 5 s lease, not the fast tests' 1 s: a fresh process's first reduce (cold JIT, at load
 * 10 on this shared machine) once went > 1 s without a lease write, and the checker took it
 * back (stalls 1); the deployment's lease is 10 s.
 */
const TIMINGS = { heartbeatMs: 1000 };

describe('worker recycling before a reduce', () => {
  let plain: TestStack;
  let recycling: TestStack;
  beforeAll(async () => {
    plain = await TestStack.start({ workers: 2, timings: TIMINGS, workerEnv: { [RECYCLE_BEFORE_REDUCE_TASKS_ENV]: '0' } });
    recycling = await TestStack.start({ workers: 2, timings: TIMINGS, workerEnv: { [RECYCLE_BEFORE_REDUCE_TASKS_ENV]: String(THRESHOLD) } });
  }, 120_000);
  afterAll(async () => {
    saveWorkerLogs(recycling, 'worker-recycle-before-reduce');
    await recycling?.stop();
    await plain?.stop();
  });

  it('runs every reduce in a fresh process; output identical, no task dropped or run twice', async () => {
    const input = syntheticText(4000, 11);
    const clean = await runRecycleIndexJob(plain, 'recycle-reduce', input, MAPS, REDUCES);
    const got = await runRecycleIndexJob(recycling, 'recycle-reduce', input, MAPS, REDUCES);
    expectIdenticalParts(got.parts, clean.parts, 'output with recycles before the reduces');
    expect(plain.stack.recycledWorkers).toBe(0);

    const claims = await expectEveryTaskOnce(recycling, got, MAPS, REDUCES);

    // 16 maps on 2 workers: at least one process ran THRESHOLD maps and was replaced before a reduce.
    const { recycles, exited } = await recycledAndExited(recycling);
    expect(recycles.length).toBeGreaterThanOrEqual(1);
    for (const r of recycles) {
      expect(r.reason).toBe('before-reduce');
      expect(r.tasks).toBeGreaterThanOrEqual(THRESHOLD);
    }
    for (const c of exited) expect(c.exitCode).toBe(WORKER_RECYCLE_EXIT_CODE);
    expect(recycling.stack.recycledWorkers).toBe(recycles.length);
    expect(recycling.stack.liveWorkers()).toHaveLength(2);
    // A replacement runs with a young worker's semi-space ceiling, compiling on its main thread (core/worker-heap.ts); a first worker without either.
    const argv = (pid: number | undefined) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const semi = `--max-semi-space-size=${RECYCLED_WORKER_SEMI_SPACE_MIB}`;
    const replaced = new Set(recycling.stack.liveWorkers().filter((c) => !recycling.stack.workerProcesses.slice(0, 2).includes(c)));
    expect(replaced.size).toBeGreaterThanOrEqual(1);
    for (const c of replaced) expect(argv(c.pid)).toEqual(expect.arrayContaining([semi, RECYCLED_WORKER_COMPILE_ARG]));
    for (const c of plain.stack.liveWorkers()) expect(argv(c.pid)).not.toContain(semi);
    for (const c of plain.stack.liveWorkers()) expect(argv(c.pid)).not.toContain(RECYCLED_WORKER_COMPILE_ARG);

    // Each reduce was claimed by a process that had run fewer than THRESHOLD tasks (of this job: the stack is fresh).
    const claimsBy = new Map<string, string[]>();
    for (const r of claims) claimsBy.set(r.workerId!, [...(claimsBy.get(r.workerId!) ?? []), r.taskId!]);
    for (const [workerId, ids] of claimsBy) {
      ids.forEach((id, before) => {
        if (!isMapTaskId(id)) expect(before, `${workerId} claimed ${id} after ${before} tasks`).toBeLessThan(THRESHOLD);
      });
    }
    // The processes that gave a reduce back claimed nothing after it.
    const recycled = new Set(recycles.map((r) => r.workerId));
    for (const id of recycled) expect((claimsBy.get(id!) ?? []).every(isMapTaskId)).toBe(true);
  }, 300_000);
});
