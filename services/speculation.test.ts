/**
 * The checker's speculation step on fake adapters and an injected clock: what it reads
 * (the sweep's active tasks and the job record's committed sums, never a phase's task list)
 * and which backups it posts. test/fault/speculation-checker.test.ts runs it on the emulator.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS } from '../core/config.js';
import type { Manifest } from '../core/manifest.js';
import type { JobRecord, TaskRecord, WorkerRecord } from '../core/model.js';
import { type Services, silentLog } from './context.js';
import { fleetSnapshot, phaseSnapshot, runningOf, speculate } from './speculation.js';
import { parseTaskMessage } from './task-lifecycle.js';

const NOW = 1_800_000_000_000;

/** Eight maps, six committed in 2 s each (the sums their commits left), two running. */
function job(over: Partial<JobRecord> = {}): JobRecord {
  return {
    jobId: 'j1',
    status: 'RUNNING',
    phase: 'MAP',
    manifest: {} as Manifest,
    numMaps: 8,
    numReduces: 1,
    mapsCommitted: 6,
    reducesCommitted: 0,
    inputBytes: 8000,
    counters: {},
    createdAt: new Date(NOW - 120_000).toISOString(),
    updatedAt: new Date(NOW - 60_000).toISOString(),
    mapStatCount: 6,
    mapStatMs: 12_000,
    mapStatMsSq: 24_000_000,
    mapStatBytes: 6000,
    ...over,
  };
}

/** A running map claimed `ranMs` ago, `done` of its 1000 bytes read, lease held. */
function running(taskId: string, ranMs: number, done: number, over: Partial<TaskRecord> = {}): TaskRecord {
  return {
    jobId: 'j1',
    taskId,
    kind: 'map',
    index: Number(taskId.slice(-1)),
    status: 'RUNNING',
    attempt: 1,
    failures: 0,
    stalls: 0,
    owner: `w-${taskId}`,
    claimedAt: NOW - ranMs,
    leaseExpiresAt: NOW + 5000,
    progress: done,
    progressTotal: 1000,
    ...over,
  };
}

const worker = (workerId: string, runningTask?: string): WorkerRecord => ({
  workerId,
  heartbeatAt: NOW,
  startedAt: NOW - 600_000,
  host: 'h',
  ...(runningTask ? { runningTask } : {}),
});

/** Fake adapters: a task listing throws, so a step that reads one fails the test. */
function fake(workers: WorkerRecord[]) {
  const posted: string[] = [];
  const sent: string[] = [];
  const s = {
    now: () => NOW,
    timings: DEFAULT_TIMINGS,
    log: silentLog,
    workers: { list: async () => workers, get: async () => new Map() },
    tasks: {
      list: () => Promise.reject(new Error('the speculation step listed a phase’s tasks')),
      backups: { post: async (t: TaskRecord) => (posted.push(t.taskId), t.attempt + 1) },
    },
    taskQueue: { sendAll: async (bodies: string[]) => void sent.push(...bodies.map((b) => parseTaskMessage(b)!.taskId)) },
  } as unknown as Services;
  return { s, posted, sent };
}

const fleet = [worker('w-m-00006', 'j1/m-00006'), worker('w-m-00007', 'j1/m-00007'), worker('idle')];

describe('speculate (checker step)', () => {
  it("backs up the phase's straggler from the active tasks and the record's sums, without listing the phase", async () => {
    const { s, posted, sent } = fake(fleet);
    const active = [running('m-00006', 60_000, 100), running('m-00007', 1500, 900)];
    expect(await speculate(s, active, [job()], NOW)).toEqual(['j1/m-00006']);
    expect(posted).toEqual(['m-00006']);
    expect(sent).toEqual(['m-00006']);
  });

  it('waits on a record with no sums (a job in flight across the deploy that added them)', async () => {
    const { s, posted } = fake(fleet);
    const old = job({ mapStatCount: undefined, mapStatMs: undefined, mapStatMsSq: undefined, mapStatBytes: undefined });
    expect(await speculate(s, [running('m-00006', 60_000, 100), running('m-00007', 1500, 900)], [old], NOW)).toEqual([]);
    expect(posted).toEqual([]);
  });

  it('waits while a task nobody runs is left: total − committed − running > 0', async () => {
    const { s, posted } = fake(fleet);
    // m-00007 is not in the active index (never claimed): one pending task.
    expect(await speculate(s, [running('m-00006', 60_000, 100)], [job()], NOW)).toEqual([]);
    expect(posted).toEqual([]);
  });
});

describe('phaseSnapshot', () => {
  it("counts only the job's current step and kind; pending is what is neither committed nor running", () => {
    const j = job({ step: 1, numMaps: 10, mapsCommitted: 5 });
    const active = [
      running('s2-m-00001', 9000, 10, { step: 1 }),
      running('s2-m-00002', 9000, 10, { step: 1, status: 'PENDING' }),
      running('m-00003', 9000, 10),
      running('s2-m-00004', 9000, 10, { step: 1, jobId: 'other' }),
      running('s2-r-00000', 9000, 10, { step: 1, kind: 'reduce' }),
    ];
    const mine = runningOf(j, 'map', active);
    expect(mine.map((t) => t.taskId)).toEqual(['s2-m-00001']);
    const snap = phaseSnapshot(j, 'map', mine);
    expect(snap.pendingTasks).toBe(10 - 5 - 1);
    expect(snap.committed).toEqual({ count: 6, sumMs: 12_000, sumSqMs: 24_000_000, sumBytes: 6000 });
    expect(snap.running).toEqual([{ taskId: 's2-m-00001', startedAt: NOW - 9000, bytesDone: 10, bytesTotal: 1000, hasBackup: false }]);
  });
});

describe('fleetSnapshot', () => {
  const now = 1_800_000_000_000;
  const lease = DEFAULT_TIMINGS.heartbeatMs * DEFAULT_TIMINGS.missedHeartbeats;
  const w = (workerId: string, heartbeatAt: number): WorkerRecord => ({ workerId, heartbeatAt, startedAt: 0, host: 'h' });
  const task = (owner: string, leaseExpiresAt: number) => ({ jobId: 'j', taskId: `m-${owner}`, kind: 'map', index: 0, status: 'RUNNING', attempt: 1, failures: 0, stalls: 0, owner, leaseExpiresAt }) as TaskRecord;

  it('counts a busy worker live by its task\'s lease although its item (last written idle) is older than a lease, and not idle', () => {
    const workers = [w('busy', now - 10 * lease), w('idle', now - 100), w('dead', now - lease - 1)];
    const active = [task('busy', now + 5000), task('dead', now - 1)];
    expect(fleetSnapshot(workers, active, now, DEFAULT_TIMINGS)).toEqual({ liveWorkers: 2, idleWorkers: 1, backupsInFlight: 0 });
  });
});
