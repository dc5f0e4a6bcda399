/**
 * Speculation in the checker and the backup's fenced writes, on seeded state with an
 * injected clock (no workers, no waiting): overlapping checkers post a backup once; the
 * per-job switch; a primary and a backup committing at once (one wins, counted once); a
 * dead backup taken back without costing the task an attempt.
 */
import { describe, expect, it } from 'vitest';
import type { AttemptRef } from '../../aws/task-store.js';
import { isErrorNamed } from '../../core/errors.js';
import type { JobRecord } from '../../core/model.js';
import { newJobId } from '../../core/model.js';
import { Counters, counterKey, FRAMEWORK } from '../../core/reporter.js';
import { committedStats } from '../../core/speculation.js';
import type { Services } from '../../services/context.js';
import { speculate } from '../../services/speculation.js';
import { usePrivateNamespace } from '../helpers/emulators.js';
import { drainQueue } from '../helpers/queues.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

const T = 10_000_000;
const LONG = 60_000;
const output = (taskId: string, attempt: number) => ({ key: `tmp/x/map/${taskId}/attempt-${attempt}`, offsets: [0, 10] });

describe('speculation: checker and backup writes', () => {
  const env = usePrivateNamespace(() => T);

  /**
   * A RUNNING job of 4 maps: 3 committed in 1 s each, m-00003 claimed 10 s ago with 10 % read,
   * its worker alive, two idle workers.
   */
  async function seedStraggler(s: Services, manifest: Partial<NonNullable<JobRecord['manifest']>> = {}) {
    const jobId = newJobId();
    const job = runningJob(jobId, 4, 0, T - 20_000);
    await s.jobs.create({ ...job, manifest: { ...job.manifest!, ...manifest } });
    await s.tasks.putNew(pendingTasks(jobId, 'map', 4));
    for (let i = 0; i < 3; i++) {
      const taskId = `m-0000${i}`;
      const claimed = await s.tasks.claim(jobId, taskId, `w-done-${i}`, T - 12_000, LONG);
      const ref: AttemptRef = { jobId, taskId, owner: `w-done-${i}`, attempt: claimed.attempt, startedAt: T - 12_000 };
      await s.tasks.commit(ref, T - 11_000, { output: output(taskId, 1), counters: {} }, { inputBytes: 1000 });
    }
    const slow: AttemptRef = { jobId, taskId: 'm-00003', owner: 'w-slow', attempt: 1, startedAt: T - 10_000 };
    await s.tasks.claim(jobId, 'm-00003', 'w-slow', T - 10_000, LONG);
    await s.tasks.heartbeat(slow, T, LONG, { done: 100, total: 1000 });
    const beat = (workerId: string, running?: boolean) =>
      s.workers.beat({ workerId, heartbeatAt: T, startedAt: T - LONG, host: 'seeded', ...(running ? { runningTask: `${jobId}/m-00003`, runningAttempt: 1 } : {}) });
    await Promise.all([beat('w-slow', true), beat('w-idle-1'), beat('w-idle-2')]);
    return { jobId, slow };
  }

  async function sweepSpeculation(s: Services) {
    const [active, jobs] = await Promise.all([s.jobs.listActiveTasks(), s.jobs.listActive()]);
    return speculate(s, active, jobs, T);
  }

  it('five overlapping checkers post one backup of the straggler, and send one message', async () => {
    const { jobId } = await seedStraggler(env.s);
    const checkers = Array.from({ length: 5 }, () => env.ns.services(() => T));
    const posted = (await Promise.all(checkers.map(sweepSpeculation))).flat();
    expect(posted).toEqual([`${jobId}/m-00003`]);
    const task = await env.s.tasks.get(jobId, 'm-00003');
    expect(task).toMatchObject({ status: 'RUNNING', attempt: 1, owner: 'w-slow', backupAttempt: 2, backupPostedAt: T });
    const bodies = await drainQueue(env.s, env.s.taskQueue, 0);
    expect(bodies.map((b) => JSON.parse(b) as unknown)).toEqual([{ jobId, taskId: 'm-00003', backup: true }]);
    // A later sweep posts nothing more: one backup per task.
    expect(await sweepSpeculation(env.s)).toEqual([]);
  });

  it('a backup message lost after the post is sent again after requeueGraceMs, once across checkers, one backup', async () => {
    const { jobId } = await seedStraggler(env.s);
    await sweepSpeculation(env.s);
    // The message is lost: drop it.
    expect(await drainQueue(env.s, env.s.taskQueue, 0)).toHaveLength(1);
    // Within the bound nothing is resent.
    expect(await sweepSpeculation(env.s)).toEqual([]);
    expect(await drainQueue(env.s, env.s.taskQueue, 0)).toEqual([]);
    const later = T + env.s.timings.requeueGraceMs + 1;
    const checkers = Array.from({ length: 5 }, () => env.ns.services(() => later));
    await Promise.all(
      checkers.map(async (s) => {
        const [active, jobs] = await Promise.all([s.jobs.listActiveTasks(), s.jobs.listActive()]);
        return speculate(s, active, jobs, later);
      }),
    );
    const bodies = await drainQueue(env.s, env.s.taskQueue, 0);
    expect(bodies.map((b) => JSON.parse(b) as unknown)).toEqual([{ jobId, taskId: 'm-00003', backup: true }]);
    const task = await env.s.tasks.get(jobId, 'm-00003');
    expect(task).toMatchObject({ status: 'RUNNING', owner: 'w-slow', attempt: 1, backupAttempt: 2, backupPostedAt: later });
    // The resent message starts the one backup; a second claim (a late original) is refused.
    await env.s.tasks.backups.claim(jobId, 'm-00003', 'w-idle-1', later, LONG);
    const again = await env.s.tasks.backups.claim(jobId, 'm-00003', 'w-idle-2', later + 1, LONG).then(() => undefined, (e: unknown) => e);
    expect(isErrorNamed(again, 'StaleStateError')).toBe(true);
    expect((await env.s.tasks.get(jobId, 'm-00003'))?.backupOwner).toBe('w-idle-1');
  });

  it('a job with speculative: false gets no backup', async () => {
    await seedStraggler(env.s, { speculative: false });
    expect(await sweepSpeculation(env.s)).toEqual([]);
    expect(await drainQueue(env.s, env.s.taskQueue, 0)).toEqual([]);
  });

  it('primary and backup commit at the same instant: one wins, the job counts one commit', async () => {
    const { jobId, slow } = await seedStraggler(env.s);
    await sweepSpeculation(env.s);
    const b = await env.s.tasks.backups.claim(jobId, 'm-00003', 'w-idle-1', T, LONG);
    expect(b).toMatchObject({ attempt: 2, owner: 'w-idle-1', claimedAt: T });
    const backup: AttemptRef = { jobId, taskId: 'm-00003', owner: 'w-idle-1', attempt: 2, startedAt: T, backup: true };
    const counters = { [counterKey(FRAMEWORK, Counters.MAP_INPUT_RECORDS)]: 7 };
    const [s1, s2] = [env.ns.services(() => T), env.ns.services(() => T)];
    const results = await Promise.allSettled([
      s1.tasks.commit(slow, T + 1, { output: output('m-00003', 1), counters }),
      s2.tasks.commit(backup, T + 1, { output: output('m-00003', 2), counters }),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(refused).toHaveLength(1);
    expect(isErrorNamed((refused[0] as PromiseRejectedResult).reason, 'LeaseLostError')).toBe(true);
    const job = (await env.s.jobs.get(jobId))!;
    expect(job.mapsCommitted).toBe(4);
    expect(job.counters[counterKey(FRAMEWORK, Counters.MAP_INPUT_RECORDS)]).toBe(7);
    const task = (await env.s.tasks.get(jobId, 'm-00003'))!;
    const winner = results[0]!.status === 'fulfilled' ? 1 : 2;
    expect(task).toMatchObject({ status: 'COMMITTED', committedAttempt: winner, output: output('m-00003', winner) });
    expect(job.counters[counterKey(FRAMEWORK, Counters.SPECULATIVE_WINS)] ?? 0).toBe(winner === 2 ? 1 : 0);
    // The phase's sums (speculation's reference) hold the three seeded 1 s commits and the
    // winner's attempt only: the primary ran 10 001 ms, the backup 1 ms.
    const ranMs = winner === 1 ? 10_001 : 1;
    expect(committedStats(job, 'map')).toEqual({ count: 4, sumMs: 3000 + ranMs, sumSqMs: 3_000_000 + ranMs * ranMs, sumBytes: 3000 });
  });

  it('a dead backup is taken back as reclaimed; the task keeps its attempts and its primary', async () => {
    const { jobId } = await seedStraggler(env.s);
    await sweepSpeculation(env.s);
    // Claimed 2 leases ago with a 1 s lease, by a worker that never beat.
    await env.s.tasks.backups.claim(jobId, 'm-00003', 'w-gone', T - 2000, 1000);
    expect(await sweepSpeculation(env.s)).toEqual([]);
    const task = (await env.s.tasks.get(jobId, 'm-00003'))!;
    expect(task).toMatchObject({ status: 'RUNNING', owner: 'w-slow', attempt: 1, stalls: 0, failures: 0, backupAttempt: 2, backupEndedAt: T });
    expect(task.backupOwner).toBeUndefined();
    expect(task.history?.map((h) => [h.attempt, h.outcome, h.backup])).toEqual([[2, 'reclaimed', true]]);
  });
});
