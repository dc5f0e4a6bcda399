/**
 * Module code that blocks the worker's event loop for three lease lengths (a sync map
 * call, then a sync reduce call, each busy-waiting): the worker's heartbeat timer cannot
 * run meanwhile, and before the lease keeper thread (worker/lease-keeper.ts) the lease
 * lapsed, the checker took the task back and every attempt was lost the same way, so the
 * job failed after its attempts. With the keeper the job succeeds on the first attempt of
 * every task, with the output of a clean run. Fault timings: 400 ms beats, a 2 s lease.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leaseMs } from '../../core/config.js';
import { LOG_EVENTS } from '../../core/log-events.js';
import { startFaultStack } from '../helpers/emulators.js';
import { finishJob, startJob } from '../helpers/pipeline.js';
import { FAST_TIMINGS, REPO, type TestStack } from '../helpers/stack.js';
import { eventsOf, saveWorkerLogs, workerLogRecords } from '../helpers/worker-logs.js';

const BLOCKING = path.join(REPO, 'test', 'fixtures', 'modules', 'blocking.mjs');
const TIMINGS = { heartbeatMs: 400 };
const LEASE_MS = leaseMs({ ...FAST_TIMINGS, ...TIMINGS });
const BLOCK_MS = 3 * LEASE_MS;

const FILES = {
  'a.txt': Buffer.from('the map\nblock the reduce\nblock\nkey value\n'),
  'b.txt': Buffer.from('value the\nshuffle sort\n'),
};

/** Word counts of FILES, as the job writes them: `word\tcount` lines in byte order. */
function expectedCounts(): string {
  const counts = new Map<string, number>();
  for (const b of Object.values(FILES)) for (const w of b.toString().split(/\s+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
  const keys = [...counts.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  return keys.map((k) => `${k}\t${counts.get(k)}\n`).join('');
}

describe('module code that blocks the worker past its lease', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startFaultStack({ workers: 2, timings: TIMINGS });
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'blocked-worker');
    await t?.stop();
  });

  it(`keeps its lease through a ${BLOCK_MS} ms sync map call and sync reduce call`, async () => {
    const started = await startJob(t, {
      name: 'blocked',
      files: FILES,
      mapper: { module: 'blocking.mjs' },
      reducer: { module: 'blocking.mjs' },
      ship: [BLOCKING],
      // No backups: the point is that the blocked attempt itself keeps its task.
      extra: { numReducers: 1, env: { BLOCK_MS: String(BLOCK_MS) }, speculative: false },
    });
    const run = await finishJob(t, started, 90_000);
    expect(Buffer.concat(run.parts).toString()).toBe(expectedCounts());

    const tasks = [...(await t.s.tasks.list(run.jobId, 'map')), ...(await t.s.tasks.list(run.jobId, 'reduce'))];
    expect(tasks.length).toBe(3);
    for (const task of tasks) {
      expect(task, task.taskId).toMatchObject({ status: 'COMMITTED', attempt: 1, committedAttempt: 1, stalls: 0, failures: 0 });
    }
    // The keeper did it: it extended the lease of the blocked map attempt and of the reduce attempt.
    const kept = workerLogRecords(t, { jobId: run.jobId }).filter((r) => r.message === LOG_EVENTS.leaseKeptWhileBlocked);
    const keptTasks = new Set(kept.map((r) => r.taskId));
    expect(keptTasks.has('r-00000'), eventsOf(workerLogRecords(t, { jobId: run.jobId })).join('\n')).toBe(true);
    expect([...keptTasks].filter((id) => id?.startsWith('m-')).length).toBe(1);
    // Stepping in, the keeper wrote the worker item naming the attempt beside its first lease
    // write (the checker's second witness, shouldReclaim); nothing else writes it mid-task.
    for (const r of kept) expect(r, r.taskId as string).toMatchObject({ workerItem: true });
  });
});
