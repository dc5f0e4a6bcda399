/**
 * The checker's reclaim policy inside a sweep, on fake adapters and an injected clock:
 * which tasks it takes back, under whose maxAttempts, and what it sends and ends.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS } from '../core/config.js';
import type { Manifest } from '../core/manifest.js';
import type { JobRecord, TaskRecord, WorkerRecord } from '../core/model.js';
import { sweep } from './checker.js';
import { type Services, silentLog } from './context.js';
import { leaseMs, parseTaskMessage } from './task-lifecycle.js';

const NOW = 1_800_000_000_000;
const LEASE = leaseMs(DEFAULT_TIMINGS);

function job(jobId: string, maxAttempts?: number): JobRecord {
  return {
    jobId,
    status: 'RUNNING',
    phase: 'MAP',
    manifest: { maxAttempts } as Manifest,
    numMaps: 5,
    numReduces: 1,
    mapsCommitted: 0,
    reducesCommitted: 0,
    inputBytes: 1,
    counters: {},
    createdAt: new Date(NOW - 60_000).toISOString(),
    updatedAt: new Date(NOW - 60_000).toISOString(),
  };
}

function running(jobId: string, owner: string, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    jobId,
    taskId: 'm-00000',
    kind: 'map',
    index: 0,
    status: 'RUNNING',
    attempt: 1,
    failures: 0,
    stalls: 0,
    owner,
    claimedAt: NOW - 30_000,
    leaseExpiresAt: NOW - 1,
    ...over,
  };
}

/** Fake adapters recording what the sweep does. */
function fake(jobs: JobRecord[], tasks: TaskRecord[], workers: WorkerRecord[]) {
  const did: { reclaimed: [string, boolean][]; sent: string[]; ended: [string, string][]; stopped: [string, string, string[]][] } = {
    reclaimed: [],
    sent: [],
    ended: [],
    stopped: [],
  };
  const s = {
    now: () => NOW,
    timings: DEFAULT_TIMINGS,
    log: silentLog,
    workers: {
      acquireGuard: async () => true,
      get: async (ids: string[]) => new Map(workers.filter((w) => ids.includes(w.workerId)).map((w) => [w.workerId, w])),
    },
    jobs: {
      listActiveTasks: async () => tasks,
      listActive: async () => jobs.filter((j) => !did.ended.some(([id]) => id === j.jobId)),
      get: async (id: string) => jobs.find((j) => j.jobId === id),
      end: async (id: string, _s: string, reason: string) => (did.ended.push([id, reason]), true),
      startReducePhase: async () => false,
      beginFinalize: async () => false,
    },
    tasks: {
      reclaim: async (t: TaskRecord, _now: number, exhausted: boolean) => {
        did.reclaimed.push([t.jobId, exhausted]);
        return exhausted ? 'FAILED' : 'PENDING';
      },
      listStatuses: async (jobId: string) => [
        { taskId: 'm-00000', status: 'FAILED' },
        { taskId: 'm-00001', status: 'RUNNING' },
        { taskId: 'm-00002', status: 'PENDING' },
      ].map((t) => ({ ...t, jobId })),
      stopForJobEnd: async (jobId: string, status: string, listed: { taskId: string; status: string }[]) =>
        void did.stopped.push([jobId, status, listed.map((t) => `${t.taskId}:${t.status}`)]),
    },
    taskQueue: { sendAll: async (bodies: string[]) => void did.sent.push(...bodies.map((b) => parseTaskMessage(b)!.jobId)) },
    taskDeadLetters: { receive: async () => [] },
  } as unknown as Services;
  return { s, did };
}

describe('sweep: stalled tasks', () => {
  it("uses each job's maxAttempts: a first stall fails a maxAttempts 1 job and requeues a default one", async () => {
    const { s, did } = fake([job('one', 1), job('dflt')], [running('one', 'dead-1'), running('dflt', 'dead-2')], []);
    const report = await sweep(s, 'run');
    expect(did.reclaimed).toEqual([
      ['one', true],
      ['dflt', false],
    ]);
    expect(report.failedTasks).toEqual(['one/m-00000']);
    expect(report.republished).toEqual(['dflt/m-00000']);
    expect(did.sent).toEqual(['dflt']);
    expect(did.ended).toHaveLength(1);
    expect(did.ended[0]![1]).toMatch(/^Task m-00000 failed after 1 attempt: /);
  });

  it('a job it fails has its tasks stopped: listed after the end and handed to stopForJobEnd as FAILED (running ones get marked)', async () => {
    const { s, did } = fake([job('one', 1)], [running('one', 'dead-1')], []);
    await sweep(s, 'run');
    expect(did.ended.map(([id]) => id)).toEqual(['one']);
    expect(did.stopped).toEqual([['one', 'FAILED', ['m-00000:FAILED', 'm-00001:RUNNING', 'm-00002:PENDING']]]);
  });

  it('keeps a task whose lease runs, or whose live owner runs it and missed less than a lease', async () => {
    const live: WorkerRecord = { workerId: 'w', heartbeatAt: NOW - 100, startedAt: 0, host: 'h', runningTask: 'a/m-00000', runningAttempt: 1 };
    const tasks = [running('a', 'w', { leaseExpiresAt: NOW - LEASE + 1 }), running('b', 'gone', { leaseExpiresAt: NOW + 1 })];
    const { s, did } = fake([job('a'), job('b')], tasks, [live]);
    await sweep(s, 'run');
    expect(did.reclaimed).toEqual([]);
  });

  it('takes back a task its live owner does not name (a lost claim response)', async () => {
    const idle: WorkerRecord = { workerId: 'w', heartbeatAt: NOW - 100, startedAt: 0, host: 'h' };
    const { s, did } = fake([job('a')], [running('a', 'w')], [idle]);
    expect((await sweep(s, 'run')).republished).toEqual(['a/m-00000']);
    expect(did.reclaimed).toEqual([['a', false]]);
  });
});

describe('sweep: never-claimed tasks of a stalled job', () => {
  it('lists a stalled phase once per requeue grace while its listing finds nothing to send again', async () => {
    const grace = DEFAULT_TIMINGS.requeueGraceMs;
    const stalled: JobRecord = { ...job('j-stalled'), startedAt: new Date(NOW - grace - 1).toISOString() };
    const { s } = fake([stalled], [], []);
    let now = NOW;
    let listed = 0;
    // Its one task went back to PENDING after a claim (requeuedAt): the lost-requeue rule's, not this one's.
    const requeued = running('j-stalled', 'w1', { status: 'PENDING', requeuedAt: NOW - 1000, leaseExpiresAt: undefined });
    Object.assign(s, {
      now: () => now,
      taskQueue: { ...s.taskQueue, waiting: async () => 0 },
      tasks: { ...s.tasks, list: async () => (listed++, [requeued]) },
    });
    await sweep(s, 'first');
    now += 3000;
    await sweep(s, 'second');
    expect(listed).toBe(1);
    now += grace;
    await sweep(s, 'after the grace');
    expect(listed).toBe(2);
  });
});
