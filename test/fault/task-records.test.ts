/**
 * A coordinator retried while the first invocation is still creating the job writes
 * the task records again: that must never reset a task a worker already claimed.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { newJobId, type TaskRecord, taskId } from '../../core/model.js';
import type { Services } from '../../services/context.js';
import { usePrivateNamespace } from '../helpers/emulators.js';

describe('TaskStore.putNew', () => {
  const env = usePrivateNamespace();
  let s: Services;

  beforeEach(() => {
    s = env.s;
  });

  const records = (jobId: string, n: number): TaskRecord[] =>
    Array.from({ length: n }, (_, index) => ({
      jobId,
      taskId: taskId('map', index),
      kind: 'map' as const,
      index,
      status: 'PENDING' as const,
      attempt: 0,
      failures: 0,
      stalls: 0,
    }));

  it('never overwrites a claimed task, in a chunk transaction or one by one', async () => {
    const jobId = newJobId();
    // 150 tasks: one full transaction chunk of 100 and one of 50.
    const tasks = records(jobId, 150);
    await s.tasks.putNew(tasks);
    const claimedA = await s.tasks.claim(jobId, taskId('map', 7), 'worker-a', Date.now(), 60_000);
    const claimedB = await s.tasks.claim(jobId, taskId('map', 120), 'worker-b', Date.now(), 60_000);
    expect([claimedA.attempt, claimedB.attempt]).toEqual([1, 1]);

    // The retried coordinator writes the same records again (and concurrently with itself).
    await Promise.all([s.tasks.putNew(tasks), s.tasks.putNew(tasks)]);

    const after = await s.tasks.list(jobId);
    expect(after).toHaveLength(150);
    const byId = new Map(after.map((t) => [t.taskId, t]));
    expect(byId.get(taskId('map', 7))).toMatchObject({ status: 'RUNNING', owner: 'worker-a', attempt: 1 });
    expect(byId.get(taskId('map', 120))).toMatchObject({ status: 'RUNNING', owner: 'worker-b', attempt: 1 });
    expect(after.filter((t) => t.status === 'PENDING')).toHaveLength(148);
  });
});
