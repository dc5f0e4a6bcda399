/**
 * Acceptance 3: concurrent checkers republish each stalled task once. State is
 * seeded directly in an isolated namespace (no workers, no loops) with injected
 * clocks, so nothing waits for a lease to run out.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { TaskItem } from '../../aws/task-store.js';
import { isErrorNamed, type StaleStateError } from '../../core/errors.js';
import { newJobId } from '../../core/model.js';
import { sweep, sweepUntil } from '../../services/checker.js';
import type { Services } from '../../services/context.js';
import { isolatedNamespace, type Namespace, type PrivateEmulator, privateEmulator } from '../helpers/emulators.js';
import { drainQueue as drain, taskIdsOf } from '../helpers/queues.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

const LEASE = 1000; // FAST_TIMINGS: 200 ms × 5

describe('checker: stalled tasks are republished exactly once', () => {
  let emu: PrivateEmulator;
  let ns: Namespace;
  let T: number;
  let seed: Services;
  const drainQueue = (s: Services) => drain(s, s.taskQueue, 0);

  // Concurrent conditional writes need an emulator that applies them one at a time, as
  // DynamoDB does (see privateEmulator); each test gets its own table, queues and guard.
  beforeAll(async () => {
    emu = await privateEmulator();
  });
  afterAll(async () => {
    await emu?.stop();
  });
  beforeEach(async () => {
    ns = await isolatedNamespace(emu.endpoint);
    T = Date.now();
    seed = ns.services(() => T);
  });
  afterEach(() => ns?.close());

  /**
   * A RUNNING job whose map tasks are RUNNING: claimed a minute ago (lease long
   * expired) by owners whose heartbeat is `ownerBeatAgoMs` old.
   */
  async function seedStalled(
    n: number,
    ownerBeatAgoMs: number,
    extra: Partial<TaskItem> = {},
    o: { claimedAgoMs?: number; ownerNamesAttempt?: boolean } = {},
  ) {
    const jobId = newJobId();
    await seed.jobs.create(runningJob(jobId, n, 0, T));
    await seed.tasks.putNew(pendingTasks(jobId, 'map', n, extra));
    const tasks: TaskItem[] = [];
    for (let i = 0; i < n; i++) {
      const owner = `worker-${jobId}-${i}`;
      const taskId = `m-${String(i).padStart(5, '0')}`;
      tasks.push(await seed.tasks.claim(jobId, taskId, owner, T - (o.claimedAgoMs ?? 60_000), LEASE));
      await seed.workers.beat({
        workerId: owner,
        heartbeatAt: T - ownerBeatAgoMs,
        startedAt: T - 120_000,
        host: 'seeded',
        runningTask: `${jobId}/${taskId}`,
        ...(o.ownerNamesAttempt ? { runningAttempt: 1 } : {}),
      });
    }
    return { jobId, tasks };
  }

  /** Services whose checker guard always grants: only the conditional reclaim protects. */
  function withoutGuard(s: Services): Services {
    const workers = Object.assign(Object.create(s.workers) as Services['workers'], { acquireGuard: async () => true });
    return { ...s, workers };
  }

  it('two checkers sweeping concurrently for several rounds republish each stalled task once', async () => {
    const { jobId } = await seedStalled(6, 60_000);
    let clock = T;
    const a = ns.services(() => clock);
    const b = ns.services(() => clock);
    const republished: string[] = [];
    // Rounds 1.1 s apart: past the guard (1 s) so either checker may act, but within the
    // requeue grace (5 s), after which republishing a still-unclaimed task is legitimate.
    for (let round = 0; round < 4; round++) {
      clock = T + round * 1100;
      const reports = await Promise.all([sweep(a, 'checker-a'), sweep(b, 'checker-b')]);
      expect(reports.filter((r) => r.acted).length, `round ${round}: the guard lets one run act`).toBe(1);
      for (const r of reports) republished.push(...r.republished);
    }
    const expected = Array.from({ length: 6 }, (_, i) => `m-${String(i).padStart(5, '0')}`);
    expect(republished.map((x) => x.split('/')[1]).sort()).toEqual(expected);
    expect(taskIdsOf(await drainQueue(seed))).toEqual(expected);
    for (const task of await seed.tasks.list(jobId)) {
      expect(task).toMatchObject({ status: 'PENDING', stalls: 1, attempt: 1 });
    }
  });

  it('without the guard, five concurrent sweeps still republish each task once (conditional reclaim)', async () => {
    await seedStalled(5, 60_000);
    // Different clocks too: checkers on hosts whose clocks disagree by up to 2 s.
    const sweeps = [0, 500, 1000, 1500, 2000].map((skew, i) =>
      sweep(withoutGuard(ns.services(() => T + skew)), `x${i}`),
    );
    const reports = await Promise.all(sweeps);
    expect(reports.every((r) => r.acted)).toBe(true);
    const republished = reports.flatMap((r) => r.republished);
    expect(republished).toHaveLength(5);
    expect(new Set(republished).size).toBe(5);
    expect(taskIdsOf(await drainQueue(seed))).toEqual(republished.map((x) => x.split('/')[1]).sort());
  });

  it('TaskStore.reclaim called twice concurrently on the same attempt succeeds exactly once', async () => {
    const { jobId, tasks } = await seedStalled(4, 60_000);
    const a = ns.services(() => T);
    const b = ns.services(() => T);
    for (const task of tasks) {
      const results = await Promise.allSettled([a.tasks.reclaim(task, T, false), b.tasks.reclaim(task, T, false)]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      expect(isErrorNamed(lost.reason, 'StaleStateError')).toBe(true);
      // The loser sees why: the task already moved on.
      expect((lost.reason as StaleStateError).current).toMatchObject({ status: 'PENDING', stalls: 1 });
    }
    expect((await seed.tasks.list(jobId)).map((x) => x.stalls)).toEqual([1, 1, 1, 1]);
  });

  it('a live owner naming the attempt keeps it although its lease ended (lost lease writes)', async () => {
    // Lease ended 200 ms ago; the owner beat 100 ms ago and its item names this attempt.
    const live = await seedStalled(1, 100, {}, { claimedAgoMs: LEASE + 200, ownerNamesAttempt: true });
    const dead = await seedStalled(1, 60_000);
    const report = await sweep(withoutGuard(ns.services(() => T)), 'live-check');
    expect(report.republished).toEqual([`${dead.jobId}/m-00000`]);
    const [task] = await seed.tasks.list(live.jobId);
    expect(task).toMatchObject({ status: 'RUNNING', owner: live.tasks[0]?.owner, attempt: 1, stalls: 0 });
    expect(taskIdsOf(await drainQueue(seed))).toEqual(['m-00000']); // the dead owner's task only
  });

  it('a lease its live owner no longer extends is reclaimed: its item, written after the claim, names no attempt', async () => {
    // The owner heartbeats (100 ms ago) but its item names no attempt: a lost claim/commit answer.
    const forgotten = await seedStalled(1, 100, {}, { claimedAgoMs: LEASE + 200 });
    const stuck = await seedStalled(1, 100, {}, { claimedAgoMs: 3 * LEASE });
    const report = await sweep(withoutGuard(ns.services(() => T)), 'stuck-check');
    expect(report.republished.sort()).toEqual([`${forgotten.jobId}/m-00000`, `${stuck.jobId}/m-00000`].sort());
    for (const { jobId } of [forgotten, stuck]) {
      const [task] = await seed.tasks.list(jobId);
      expect(task).toMatchObject({ status: 'PENDING', stalls: 1 });
      expect(task?.history).toMatchObject([{ attempt: 1, outcome: 'reclaimed', endedAt: T }]);
    }
  });

  it('with stopWhenIdle, a run stops after one sweep when nothing is active and keeps sweeping while a job is', async () => {
    const s = ns.services(Date.now);
    expect(await sweepUntil(s, 'idle-run', Date.now() + 5000, undefined, { stopWhenIdle: true })).toBe(1);
    const jobId = newJobId();
    await seed.jobs.create(runningJob(jobId, 2, 0, T));
    await seed.tasks.putNew(pendingTasks(jobId, 'map', 2));
    // 250 ms sweeps (FAST_TIMINGS) for 1.2 s: several, since the job keeps the run going.
    expect(await sweepUntil(s, 'busy-run', Date.now() + 1200, undefined, { stopWhenIdle: true })).toBeGreaterThan(1);
  });

  it('a stall that uses up the last attempt fails the task and its job, with a reason', async () => {
    // 2 failures + 1 stall so far; this stall is attempt 4 of 4.
    const { jobId } = await seedStalled(1, 60_000, { failures: 2, stalls: 1, lastError: 'exit status 3' });
    const report = await sweep(withoutGuard(ns.services(() => T)), 'exhaust');
    expect(report.failedTasks).toEqual([`${jobId}/m-00000`]);
    expect(report.republished).toEqual([]);
    const [task] = await seed.tasks.list(jobId);
    expect(task).toMatchObject({ status: 'FAILED', stalls: 2, failures: 2 });
    const job = await seed.jobs.get(jobId);
    expect(job?.status).toBe('FAILED');
    expect(job?.reason).toContain('m-00000');
    expect(job?.reason).toContain('after 4 attempts');
    expect(job?.reason).toContain('exit status 3');
    expect(await drainQueue(seed)).toEqual([]);
  });

  it('a commit refused for an expired lease reports whether anybody took the task over', async () => {
    // The worker relies on this to tell "my lease merely ran out" (renew and commit again,
    // or hand the task back) from "somebody else owns it now" (discard).
    const { jobId, tasks } = await seedStalled(1, 100);
    const task = tasks[0] as TaskItem;
    const ref = { jobId, taskId: task.taskId, owner: task.owner as string, attempt: task.attempt, startedAt: T };
    const refused = await seed.tasks.commit(ref, T, { counters: {} }).catch((e: unknown) => e);
    expect(isErrorNamed(refused, 'LeaseLostError')).toBe(true);
    expect((refused as StaleStateError).current).toMatchObject({ status: 'RUNNING', owner: ref.owner, attempt: 1 });
    // Renewing the lease (fenced on owner and attempt) makes the same commit hold.
    await seed.tasks.heartbeat(ref, T, LEASE);
    await seed.tasks.commit(ref, T, { counters: { 'mapreduce.MAP_INPUT_RECORDS': 7 } });
    const job = await seed.jobs.get(jobId);
    expect(job).toMatchObject({ mapsCommitted: 1, counters: { 'mapreduce.MAP_INPUT_RECORDS': 7 } });
    // The same attempt's commit sent again (its response was lost) is recognised as done,
    // and not applied twice (no double counting).
    expect(await seed.tasks.commit(ref, T, { counters: { 'mapreduce.MAP_INPUT_RECORDS': 7 } })).toBe('already');
    expect(await seed.jobs.get(jobId)).toMatchObject({ mapsCommitted: 1, counters: { 'mapreduce.MAP_INPUT_RECORDS': 7 } });
    // Another attempt's commit is refused.
    const other = await seed.tasks.commit({ ...ref, attempt: 2 }, T, { counters: {} }).catch((e: unknown) => e);
    expect(isErrorNamed(other, 'LeaseLostError')).toBe(true);
    expect((other as StaleStateError).current).toMatchObject({ status: 'COMMITTED', committedAttempt: 1 });
    expect((await seed.jobs.get(jobId))?.mapsCommitted).toBe(1);
  });

  it('a commit with no non-zero counters (an empty reduce partition) holds', async () => {
    const { jobId, tasks } = await seedStalled(1, 100);
    const task = tasks[0] as TaskItem;
    const ref = { jobId, taskId: task.taskId, owner: task.owner as string, attempt: task.attempt, startedAt: T };
    await seed.tasks.heartbeat(ref, T, LEASE);
    await seed.tasks.commit(ref, T, { output: { key: 'tmp/empty', offsets: [0, 0] }, counters: { 'x.zero': 0 } });
    expect(await seed.jobs.get(jobId)).toMatchObject({ mapsCommitted: 1, counters: {} });
  });
});
