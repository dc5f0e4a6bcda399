/**
 * A task whose first message never reached a worker (lost between the send and any
 * receive) must not leave its job waiting forever with idle workers: once the message is
 * older than the requeue grace and the tasks queue holds no waiting message, the checker
 * sends the task again (counted like a dead-lettered one), and fails the job with the
 * reason after maxAttempts. While messages still wait in the queue it sends nothing, so a
 * task queued behind others is never doubled. State is seeded directly in an isolated
 * namespace; the loss is made by deleting the messages the coordinator would have sent.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { newJobId } from '../../core/model.js';
import { MAX_LOST_REDRIVES_PER_SWEEP, sweep } from '../../services/checker.js';
import type { Services } from '../../services/context.js';
import { sendTaskMessages } from '../../services/task-lifecycle.js';
import { usePrivateNamespace } from '../helpers/emulators.js';
import { drainQueue, taskIdsOf } from '../helpers/queues.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

describe('checker: lost first task messages', () => {
  const T = Date.now();
  let now = T;
  const env = usePrivateNamespace(() => now);
  let s: Services;
  const longAgo = () => new Date(T - s.timings.requeueGraceMs - 1000).toISOString();
  /** A sweep after the last one's guard ran out (it lasts most of an interval, at least 1 s). */
  const sweepLater = async (runId: string) => {
    now += Math.max(1000, s.timings.checkerIntervalMs) + 1;
    return sweep(s, runId);
  };

  beforeEach(() => {
    s = env.s;
    now = T;
  });

  it('waits while messages wait in the queue, then sends the never-claimed tasks again', async () => {
    const jobId = newJobId();
    await s.jobs.create({ ...runningJob(jobId, 3, 0, T), startedAt: longAgo() });
    await s.tasks.putNew(pendingTasks(jobId, 'map', 3));
    // m-00002's message still waits; the other two were lost.
    await sendTaskMessages(s.taskQueue, jobId, ['m-00002']);

    const first = await sweepLater('lost-1');
    expect(first.republished).toEqual([]);
    expect(await s.tasks.get(jobId, 'm-00000')).toMatchObject({ status: 'PENDING', attempt: 0 });
    expect((await s.tasks.get(jobId, 'm-00000'))?.redrives).toBeUndefined();

    // The waiting message is taken by a receiver that dies before its claim: nothing waits now.
    expect(taskIdsOf(await drainQueue(s, s.taskQueue, 0))).toEqual(['m-00002']);
    const second = await sweepLater('lost-2');
    expect([...second.republished].sort()).toEqual(['m-00000', 'm-00001', 'm-00002'].map((t) => `${jobId}/${t}`));
    expect(taskIdsOf(await drainQueue(s, s.taskQueue, 0))).toEqual(['m-00000', 'm-00001', 'm-00002']);
    expect(await s.tasks.get(jobId, 'm-00001')).toMatchObject({ status: 'PENDING', attempt: 0, redrives: 1, requeuedAt: now });
    // The message sent again is an ordinary one: the task can be claimed from it.
    await expect(s.tasks.claim(jobId, 'm-00001', 'w1', now, 10_000)).resolves.toMatchObject({ attempt: 1 });
    // Sent again once: requeuedAt is set now, so this rule leaves them to the lost-requeue rule's grace.
    expect((await sweepLater('lost-3')).republished).toEqual([]);
  });

  it('leaves tasks sent within the grace, and reduces not sent yet', async () => {
    const recent = newJobId();
    await s.jobs.create({ ...runningJob(recent, 1, 0, T), startedAt: new Date(T - 1000).toISOString() });
    await s.tasks.putNew(pendingTasks(recent, 'map', 1));
    const mapsDone = newJobId();
    await s.jobs.create({ ...runningJob(mapsDone, 1, 1, T), phase: 'REDUCE', mapsCommitted: 1, startedAt: longAgo() });
    await s.tasks.putNew(pendingTasks(mapsDone, 'reduce', 1));

    expect((await sweepLater('lost-4')).republished).toEqual([]);
    expect(await drainQueue(s, s.taskQueue, 0)).toEqual([]);
  });

  it('fails the job with the reason once a task was sent again more than maxAttempts times', async () => {
    const jobId = newJobId();
    await s.jobs.create({ ...runningJob(jobId, 1, 0, T), startedAt: longAgo() });
    await s.tasks.putNew(pendingTasks(jobId, 'map', 1, { redrives: s.timings.maxAttempts }));

    const report = await sweepLater('lost-5');
    expect(report.failedTasks).toEqual([`${jobId}/m-00000`]);
    const job = await s.jobs.get(jobId);
    expect(job?.status).toBe('FAILED');
    expect(job?.reason).toMatch(/^Task m-00000 was never claimed: its message was dead-lettered or lost 5 times/);
    expect(await drainQueue(s, s.taskQueue, 0)).toEqual([]);
  });

  it('sends at most MAX_LOST_REDRIVES_PER_SWEEP tasks per sweep', async () => {
    const jobId = newJobId();
    const n = MAX_LOST_REDRIVES_PER_SWEEP + 5;
    await s.jobs.create({ ...runningJob(jobId, n, 0, T), startedAt: longAgo() });
    await s.tasks.putNew(pendingTasks(jobId, 'map', n));
    expect((await sweepLater('lost-6')).republished).toHaveLength(MAX_LOST_REDRIVES_PER_SWEEP);
    // The queue now holds those: the rest waits until it drains.
    expect((await sweepLater('lost-7')).republished).toHaveLength(0);
    expect(await drainQueue(s, s.taskQueue, 0)).toHaveLength(MAX_LOST_REDRIVES_PER_SWEEP);
    expect((await sweepLater('lost-8')).republished).toHaveLength(5);
  });
});
