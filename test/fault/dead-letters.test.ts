/**
 * A task whose message SQS dead-lettered before anyone claimed it (workers that died
 * between receive and claim, maxReceiveCount times) must not leave its job waiting
 * forever: the checker sends it again, a bounded number of times, then fails the job
 * with the reason. State is seeded directly (job, tasks, DLQ messages) in an isolated
 * namespace; nothing waits for SQS to move a message.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { newJobId } from '../../core/model.js';
import { sweep } from '../../services/checker.js';
import type { Services } from '../../services/context.js';
import { usePrivateNamespace } from '../helpers/emulators.js';
import { drainQueue, queueDepth, taskIdsOf } from '../helpers/queues.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

describe('checker: dead-lettered task messages', () => {
  const T = Date.now();
  const env = usePrivateNamespace(() => T);
  let s: Services;
  const message = (jobId: string, taskId: string) => JSON.stringify({ jobId, taskId });

  beforeEach(() => {
    s = env.s;
  });

  it('sends a stranded PENDING task again, drops stale messages and keeps unreadable ones', async () => {
    const jobId = newJobId();
    await s.jobs.create(runningJob(jobId, 3, 0, T));
    await s.tasks.putNew(pendingTasks(jobId, 'map', 3));
    // m-00001 was claimed and committed since its message was dead-lettered.
    const claimed = await s.tasks.claim(jobId, 'm-00001', 'w1', T, 10_000);
    await s.tasks.commit({ jobId, taskId: 'm-00001', owner: 'w1', attempt: claimed.attempt, startedAt: T }, T, { counters: {} });
    await s.taskDeadLetters.sendAll([message(jobId, 'm-00000'), message(jobId, 'm-00001'), 'not a task message']);

    const report = await sweep(s, 'dlq-1');
    expect(report.republished).toEqual([`${jobId}/m-00000`]);
    expect(taskIdsOf(await drainQueue(s, s.taskQueue, 0))).toEqual(['m-00000']);
    // Only the unreadable message is left (in flight: the checker's receive hides it a while).
    expect(await queueDepth(s, s.taskDeadLetters)).toBe(1);
    const task = await s.tasks.get(jobId, 'm-00000');
    expect(task).toMatchObject({ status: 'PENDING', attempt: 0, redrives: 1, requeuedAt: T });
    // The resent message is an ordinary one: the task can be claimed from it.
    await expect(s.tasks.claim(jobId, 'm-00000', 'w2', T, 10_000)).resolves.toMatchObject({ attempt: 1 });
    expect((await s.jobs.get(jobId))?.status).toBe('RUNNING');
  });

  it('fails the job with the reason once a task was dead-lettered more than maxAttempts times', async () => {
    const jobId = newJobId();
    await s.jobs.create(runningJob(jobId, 1, 0, T));
    await s.tasks.putNew(pendingTasks(jobId, 'map', 1, { redrives: s.timings.maxAttempts }));
    await s.taskDeadLetters.sendAll([message(jobId, 'm-00000')]);

    const report = await sweep(s, 'dlq-2');
    expect(report.republished).toEqual([]);
    expect(report.failedTasks).toEqual([`${jobId}/m-00000`]);
    const job = await s.jobs.get(jobId);
    expect(job?.status).toBe('FAILED');
    expect(job?.reason).toMatch(/^Task m-00000 was never claimed: its message was dead-lettered or lost 5 times/);
    expect(await drainQueue(s, s.taskQueue, 0)).toEqual([]);
    expect(await drainQueue(s, s.taskDeadLetters, 0)).toEqual([]);
  });

  it('drops the message of a task whose job has ended', async () => {
    const jobId = newJobId();
    await s.jobs.create(runningJob(jobId, 1, 0, T));
    await s.tasks.putNew(pendingTasks(jobId, 'map', 1));
    await s.jobs.end(jobId, 'CANCELLED', 'cancelled by user', new Date(T).toISOString());
    await s.taskDeadLetters.sendAll([message(jobId, 'm-00000')]);

    const report = await sweep(s, 'dlq-3');
    expect(report.republished).toEqual([]);
    expect(await drainQueue(s, s.taskQueue, 0)).toEqual([]);
    expect(await drainQueue(s, s.taskDeadLetters, 0)).toEqual([]);
    expect(await s.tasks.get(jobId, 'm-00000')).toMatchObject({ status: 'PENDING', attempt: 0 });
  });
});
