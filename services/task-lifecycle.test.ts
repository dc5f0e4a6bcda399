import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS, type Timings } from '../core/config.js';
import type { Manifest } from '../core/manifest.js';
import type { JobRecord, TaskRecord, WorkerRecord } from '../core/model.js';
import {
  attemptsAllowed,
  firstSentAt,
  isLastAttempt,
  isUnclaimedPastGrace,
  stalledWaitingKind,
  leaseHolders,
  leaseMs,
  parseTaskMessage,
  retryDelayMs,
  sendTaskMessages,
  shouldReclaim,
  taskMessageBody,
  workerLiveness,
} from './task-lifecycle.js';

const T: Timings = DEFAULT_TIMINGS; // 2 s heartbeats × 5: a 10 s lease
const LEASE = leaseMs(T);

describe('task messages', () => {
  it('are built and parsed in one format, and nothing else parses', () => {
    expect(parseTaskMessage(taskMessageBody('j1', 'm-00001'))).toEqual({ jobId: 'j1', taskId: 'm-00001' });
    expect(parseTaskMessage('{"jobId":"j1"}')).toBeUndefined();
    expect(parseTaskMessage('{"jobId":1,"taskId":"m-1"}')).toBeUndefined();
    expect(parseTaskMessage('null')).toBeUndefined();
    expect(parseTaskMessage('garbage')).toBeUndefined();
  });

  it('are sent one per task, with the delay in seconds', async () => {
    const sent: [readonly string[], number | undefined][] = [];
    await sendTaskMessages({ sendAll: async (b, d) => void sent.push([b, d]) }, 'j', ['r-00000', 'r-00001'], 2500);
    expect(sent).toEqual([[[taskMessageBody('j', 'r-00000'), taskMessageBody('j', 'r-00001')], 2.5]]);
  });
});

describe('attempts', () => {
  const job = (maxAttempts?: number) => ({ manifest: { maxAttempts } as Manifest });

  it("allowed: the job's maxAttempts, else the deployment default", () => {
    expect(attemptsAllowed(job(1), T)).toBe(1);
    expect(attemptsAllowed(job(7), T)).toBe(7);
    expect(attemptsAllowed(job(undefined), T)).toBe(T.maxAttempts);
    expect(attemptsAllowed(undefined, T)).toBe(T.maxAttempts);
  });

  it('the last one counts failures and stalls together', () => {
    expect(isLastAttempt({ failures: 0, stalls: 0 }, 1)).toBe(true);
    expect(isLastAttempt({ failures: 0, stalls: 0 }, 2)).toBe(false);
    expect(isLastAttempt({ failures: 1, stalls: 1 }, 3)).toBe(true);
    expect(isLastAttempt({ failures: 2, stalls: 0 }, 4)).toBe(false);
  });

  it('retry delay doubles per failure from the base and caps at 60 s', () => {
    expect([1, 2, 3, 4].map((f) => retryDelayMs({ retryBaseMs: 1000 }, f))).toEqual([1000, 2000, 4000, 8000]);
    expect(retryDelayMs({ retryBaseMs: 1000 }, 30)).toBe(60_000);
  });
});

describe('shouldReclaim (checker policy, injected clock)', () => {
  const now = 1_000_000;
  const task = (over: Partial<TaskRecord> = {}): TaskRecord => ({
    jobId: 'j',
    taskId: 'm-00003',
    kind: 'map',
    index: 3,
    status: 'RUNNING',
    attempt: 2,
    failures: 0,
    stalls: 1,
    owner: 'w1',
    claimedAt: now - 60_000,
    leaseExpiresAt: now - 1,
    ...over,
  });
  const worker = (over: Partial<WorkerRecord> = {}): WorkerRecord => ({
    workerId: 'w1',
    heartbeatAt: now - 100,
    startedAt: now - 600_000,
    host: 'h',
    runningTask: 'j/m-00003',
    runningAttempt: 2,
    ...over,
  });

  it('never while the lease runs, even with a dead owner', () => {
    expect(shouldReclaim(task({ leaseExpiresAt: now }), undefined, now, T)).toBe(false);
    expect(shouldReclaim(task({ leaseExpiresAt: now + 5000 }), worker({ heartbeatAt: 0 }), now, T)).toBe(false);
  });

  it('only RUNNING tasks', () => {
    for (const status of ['PENDING', 'COMMITTED', 'FAILED', 'CANCELLED'] as const) {
      expect(shouldReclaim(task({ status }), undefined, now, T)).toBe(false);
    }
  });

  it('at once when the lease ended and the owner is gone or its heartbeat is older than a lease', () => {
    expect(shouldReclaim(task(), undefined, now, T)).toBe(true);
    expect(shouldReclaim(task(), worker({ heartbeatAt: now - LEASE - 1 }), now, T)).toBe(true);
    expect(shouldReclaim(task(), worker({ heartbeatAt: now - LEASE }), now, T)).toBe(false);
  });

  it('at once when a live owner wrote its item after the claim and no longer names the attempt (a lost answer)', () => {
    expect(shouldReclaim(task(), worker({ runningTask: undefined, runningAttempt: undefined }), now, T)).toBe(true);
    expect(shouldReclaim(task(), worker({ runningTask: 'j/m-00004', runningAttempt: 1 }), now, T)).toBe(true);
    expect(shouldReclaim(task(), worker({ runningAttempt: 1 }), now, T)).toBe(true);
  });

  it('a live owner that names the attempt keeps it, however long its lease writes fail', () => {
    expect(shouldReclaim(task({ leaseExpiresAt: now - LEASE }), worker(), now, T)).toBe(false);
    expect(shouldReclaim(task({ leaseExpiresAt: now - 10 * LEASE }), worker(), now, T)).toBe(false);
  });

  it('an owner item not rewritten since the claim does not count as moved on', () => {
    const claimedAt = now - LEASE / 2;
    const before = worker({ heartbeatAt: claimedAt - 1, runningTask: undefined, runningAttempt: undefined });
    // (Only reachable with a lease shorter than the time since the claim: clocks or a seeded item.)
    expect(shouldReclaim(task({ claimedAt, leaseExpiresAt: now - 1 }), before, now, T)).toBe(false);
  });
});

describe('worker liveness: a running task\'s lease or the worker item (leaseHolders, workerLiveness)', () => {
  const now = 1_000_000;
  const running = (owner: string, leaseExpiresAt: number) => ({ status: 'RUNNING' as const, owner, leaseExpiresAt });
  const item = (workerId: string, heartbeatAt: number, runningTask?: string) => ({ workerId, heartbeatAt, ...(runningTask ? { runningTask } : {}) });

  it('a worker whose item is older than a lease is live and busy while it holds an unexpired lease (its item is not rewritten while a task runs)', () => {
    const holders = leaseHolders([running('w1', now + 1), running('w2', now - 1)], now);
    expect([...holders]).toEqual(['w1']);
    expect(workerLiveness(item('w1', now - 10 * LEASE), holders, now, T)).toEqual({ live: true, idle: false });
    // Its lease ended and its item is stale: dead, as before.
    expect(workerLiveness(item('w2', now - LEASE - 1), holders, now, T)).toEqual({ live: false, idle: false });
  });

  it('a backup\'s lease counts for its worker; a PENDING task\'s stale owner does not', () => {
    const holders = leaseHolders(
      [
        { status: 'RUNNING', owner: 'w1', leaseExpiresAt: now + 1, backupOwner: 'w3', backupLeaseExpiresAt: now + 5 },
        { status: 'PENDING', owner: 'w4', leaseExpiresAt: now + 5 },
      ],
      now,
    );
    expect([...holders].sort()).toEqual(['w1', 'w3']);
  });

  it('without a lease, the item decides: fresh within a lease is live; idle when it names no task', () => {
    const none = new Set<string>();
    expect(workerLiveness(item('w1', now - LEASE), none, now, T)).toEqual({ live: true, idle: true });
    expect(workerLiveness(item('w1', now - LEASE - 1), none, now, T)).toEqual({ live: false, idle: false });
    // Its item names a task whose lease it no longer holds (written before its commit): live, not idle.
    expect(workerLiveness(item('w1', now - 100, 'j/m-00001'), none, now, T)).toEqual({ live: true, idle: false });
  });

  it('an item that still says idle does not make a lease holder idle (claimed since its last idle beat)', () => {
    expect(workerLiveness(item('w1', now - 100), new Set(['w1']), now, T)).toEqual({ live: true, idle: false });
  });
});

describe('never-claimed tasks past the grace (isUnclaimedPastGrace, firstSentAt)', () => {
  const NOW = 1_800_000_000_000;
  const GRACE = 120_000;
  const at = (ms: number) => new Date(ms).toISOString();
  const job = (over: Partial<JobRecord> = {}): JobRecord =>
    ({ jobId: 'j', status: 'RUNNING', phase: 'MAP', startedAt: at(NOW - GRACE - 1), ...over }) as JobRecord;
  const task = (over: Partial<TaskRecord> = {}): TaskRecord =>
    ({ jobId: 'j', taskId: 'm-00000', kind: 'map', index: 0, status: 'PENDING', attempt: 0, failures: 0, stalls: 0, ...over }) as TaskRecord;

  it('a first-step map sent (job RUNNING) longer ago than the grace, never claimed', () => {
    expect(isUnclaimedPastGrace(job(), task(), NOW, GRACE)).toBe(true);
    expect(isUnclaimedPastGrace(job({ startedAt: at(NOW - GRACE) }), task(), NOW, GRACE)).toBe(false);
    // CREATING: the coordinator is still sending (its plan resumes itself).
    expect(isUnclaimedPastGrace(job({ status: 'CREATING' }), task(), NOW, GRACE)).toBe(false);
  });

  it('not a task back to PENDING after a claim (requeuedAt: the lost-requeue rule), nor a running one', () => {
    expect(isUnclaimedPastGrace(job(), task({ requeuedAt: NOW - 10 * GRACE }), NOW, GRACE)).toBe(false);
    expect(isUnclaimedPastGrace(job(), task({ status: 'RUNNING' }), NOW, GRACE)).toBe(false);
  });

  it('reduces from reduceEnqueuedAt; a later step from mapEnqueuedAt; another step never', () => {
    const reduce = task({ taskId: 'r-00000', kind: 'reduce' });
    expect(firstSentAt(job(), reduce)).toBeUndefined();
    expect(isUnclaimedPastGrace(job({ reduceEnqueuedAt: at(NOW - GRACE - 5) }), reduce, NOW, GRACE)).toBe(true);
    expect(firstSentAt(job({ step: 1, mapEnqueuedAt: at(NOW - 7) }), task({ step: 1 }))).toBe(NOW - 7);
    expect(firstSentAt(job({ step: 1 }), task({ step: 1 }))).toBeUndefined();
    expect(firstSentAt(job({ step: 1, mapEnqueuedAt: at(NOW - 7) }), task())).toBeUndefined();
  });
});

describe('jobs stalled on lost messages (stalledWaitingKind)', () => {
  const NOW = 1_800_000_000_000;
  const GRACE = 120_000;
  const at = (ms: number) => new Date(ms).toISOString();
  const job = (over: Partial<JobRecord> = {}): JobRecord =>
    ({ jobId: 'j', status: 'RUNNING', phase: 'MAP', numMaps: 4, numReduces: 2, mapsCommitted: 3, reducesCommitted: 0, startedAt: at(NOW - GRACE - 1), ...over }) as JobRecord;
  const runningTask = (kind: 'map' | 'reduce', step?: number) => ({ jobId: 'j', taskId: 'x', kind, status: 'RUNNING', step }) as TaskRecord;

  it('a job in MAP with maps left, none running, sent past the grace', () => {
    expect(stalledWaitingKind(job(), [], NOW, GRACE)).toBe('map');
    expect(stalledWaitingKind(job({ startedAt: at(NOW - 1) }), [], NOW, GRACE)).toBeUndefined();
    expect(stalledWaitingKind(job({ mapsCommitted: 4 }), [], NOW, GRACE)).toBeUndefined();
    expect(stalledWaitingKind(job({ status: 'CREATING' }), [], NOW, GRACE)).toBeUndefined();
  });

  it('a running map keeps it waiting; a reduce released early (slow-start) does not', () => {
    expect(stalledWaitingKind(job(), [runningTask('map')], NOW, GRACE)).toBeUndefined();
    expect(stalledWaitingKind(job(), [runningTask('reduce')], NOW, GRACE)).toBe('map');
    expect(stalledWaitingKind(job(), [runningTask('map', 1)], NOW, GRACE)).toBe('map');
  });

  it('reduces once reduceEnqueuedAt is past the grace', () => {
    const reducing = { phase: 'REDUCE' as const, mapsCommitted: 4 };
    expect(stalledWaitingKind(job(reducing), [], NOW, GRACE)).toBeUndefined();
    expect(stalledWaitingKind(job({ ...reducing, reduceEnqueuedAt: at(NOW - GRACE - 1) }), [], NOW, GRACE)).toBe('reduce');
    expect(stalledWaitingKind(job({ ...reducing, reduceEnqueuedAt: at(NOW - GRACE - 1) }), [runningTask('reduce')], NOW, GRACE)).toBeUndefined();
  });
});
