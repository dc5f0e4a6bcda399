import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS } from '../core/config.js';
import type { Services } from '../services/context.js';
import { Heartbeat, type TrackedAttempt } from './heartbeat.js';

/** Just the calls a heartbeat makes, recorded, on a clock the test moves. */
function fakeServices(jobStatus = 'RUNNING') {
  const calls: string[] = [];
  const clock = { now: 1_000_000 };
  const s = {
    now: () => clock.now,
    timings: DEFAULT_TIMINGS,
    log: { warn: (m: string) => calls.push(`warn ${m}`) },
    workers: { beat: async () => void calls.push('worker') },
    tasks: { heartbeat: async () => void calls.push('lease') },
    taskQueue: { setVisibility: async () => void calls.push('visibility') },
    jobs: { get: async () => (calls.push('job'), { status: jobStatus }) },
  } as unknown as Services;
  return { s, calls, clock };
}

function attempt(now: number): TrackedAttempt {
  const ref = { jobId: 'j', taskId: 'm-00000', owner: 'w', attempt: 1, startedAt: now };
  return { ref, receiptHandle: 'r', abort: new AbortController(), visibleUntil: now + 60_000 };
}

describe('Heartbeat', () => {
  const interval = DEFAULT_TIMINGS.heartbeatMs;

  it('upserts the worker item on every idle beat, and nothing else', async () => {
    const { s, calls, clock } = fakeServices();
    const hb = new Heartbeat(s, 'w');
    for (let i = 0; i < 3; i++) {
      await hb.beat();
      clock.now += interval;
    }
    expect(calls).toEqual(['worker', 'worker', 'worker']);
  });

  it('makes no call for a task claimed less than half an interval ago, then extends its lease every beat', async () => {
    const { s, calls, clock } = fakeServices();
    const hb = new Heartbeat(s, 'w');
    hb.track(attempt(clock.now));
    clock.now += interval / 4;
    await hb.beat();
    expect(calls).toEqual([]);
    const perBeat: string[][] = [];
    for (let i = 2; i <= 12; i++) {
      clock.now += interval;
      calls.length = 0;
      await hb.beat();
      perBeat.push([...calls]);
    }
    // Every beat of a running task: one lease write, no worker item (the lease proves the
    // worker alive: services/task-lifecycle.ts leaseHolders), no job read (a job's end marks
    // the task, and the lease write is refused: JobEndedError).
    perBeat.forEach((c) => expect(c).toEqual(['lease']));
  });

  it('extends the lease on the first beat when the claim is over half an interval old', async () => {
    const { s, calls, clock } = fakeServices();
    const hb = new Heartbeat(s, 'w');
    hb.track(attempt(clock.now));
    clock.now += interval * 0.6;
    await hb.beat();
    expect(calls).toEqual(['lease']);
  });

  it('reports with the lease when the attempt\'s bytes last grew (the claim until they do)', async () => {
    const { s, clock } = fakeServices();
    const reported: (number | undefined)[] = [];
    (s.tasks as unknown as { heartbeat: unknown }).heartbeat = async (_r: unknown, _n: number, _l: number, p?: { movedAt?: number }) =>
      void reported.push(p?.movedAt);
    const hb = new Heartbeat(s, 'w');
    const claimedAt = clock.now;
    const progress = { done: 0, total: 1000 };
    hb.track({ ...attempt(clock.now), progress });
    const beatAt = async (done: number): Promise<number> => {
      clock.now += interval;
      progress.done = done;
      await hb.beat();
      return clock.now;
    };
    await beatAt(0);
    const grew = await beatAt(400);
    await beatAt(400);
    await beatAt(400);
    const grewAgain = await beatAt(1000);
    expect(reported).toEqual([claimedAt, grew, grew, grew, grewAgain]);
  });

  it('never reads the job nor writes the worker item: a task running for 30 beats makes lease (and visibility) writes only', async () => {
    const { s, calls, clock } = fakeServices('CANCELLED');
    const hb = new Heartbeat(s, 'w');
    const a = attempt(clock.now);
    hb.track(a);
    for (let i = 0; i < 30; i++) {
      clock.now += interval;
      await hb.beat();
    }
    expect(a.abort.signal.aborted).toBe(false);
    expect(new Set(calls)).toEqual(new Set(['lease', 'visibility']));
    expect(calls.filter((c) => c === 'lease')).toHaveLength(30);
  });

  it('writes no worker item when an attempt is tracked, module or executable (the lease keeper writes it if the module blocks)', async () => {
    const { s, calls, clock } = fakeServices();
    const hb = new Heartbeat(s, 'w');
    hb.track(attempt(clock.now));
    hb.track({ ...attempt(clock.now), blockedLimitMs: 600_000 });
    await new Promise((r) => setImmediate(r));
    expect(calls).toEqual([]);
  });

  it('writes the worker item again on the first idle beat after the task', async () => {
    const { s, calls, clock } = fakeServices();
    const hb = new Heartbeat(s, 'w');
    hb.track(attempt(clock.now));
    clock.now += interval;
    await hb.beat();
    hb.untrack();
    clock.now += interval;
    await hb.beat();
    expect(calls).toEqual(['lease', 'worker']);
  });
});

describe('Heartbeat under lost writes', () => {
  const interval = DEFAULT_TIMINGS.heartbeatMs;

  /** Services whose lease and worker-item writes fail as `plan` says, beat by beat. */
  function flaky(plan: { lease?: (n: number) => Error | undefined; worker?: (n: number) => Error | undefined }) {
    const { s, calls, clock } = fakeServices();
    let leaseN = 0;
    let workerN = 0;
    const tasks = {
      heartbeat: async () => {
        const err = plan.lease?.(leaseN++);
        if (err) throw err;
        calls.push('lease');
      },
    };
    const workers = {
      beat: async () => {
        const err = plan.worker?.(workerN++);
        if (err) throw err;
        calls.push('worker');
      },
    };
    return { s: { ...s, tasks, workers } as unknown as Services, calls, clock };
  }

  it('a lease write that fails (throttled, timed out) does not stop the attempt; the next beat extends the lease', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { s, calls, clock } = flaky({ lease: (n) => (n < 4 ? throttled : undefined) });
    const hb = new Heartbeat(s, 'w');
    const a = attempt(clock.now);
    hb.track(a);
    // Four failed extensions: longer than half the lease, the attempt keeps running.
    for (let i = 0; i < 5; i++) {
      clock.now += interval;
      await hb.beat();
    }
    expect(a.abort.signal.aborted).toBe(false);
    expect(calls.filter((c) => c === 'lease')).toHaveLength(1);
  });

  it('while lease writes fail, each beat writes the worker item naming the attempt (the checker keeps it: shouldReclaim)', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { s, calls, clock } = flaky({ lease: (n) => (n === 1 || n === 2 ? throttled : undefined) });
    const items: { heartbeatAt: number }[] = [];
    const workers = { beat: async (w: { heartbeatAt: number }) => void (items.push(w), calls.push('worker')) };
    const hb = new Heartbeat({ ...s, workers } as unknown as Services, 'w');
    const a = attempt(clock.now);
    hb.track(a);
    const at: number[] = [];
    for (let i = 0; i < 5; i++) {
      clock.now += interval;
      at.push(clock.now);
      await hb.beat();
    }
    // Beat 2's lease write failed: the item after it; beat 3 (failing) and beat 4 (extends
    // again): the item beside the lease write; beat 5: the lease write only.
    expect(calls.filter((c) => !c.startsWith('warn'))).toEqual(['lease', 'worker', 'worker', 'worker', 'lease', 'lease']);
    expect(items.map((w) => w.heartbeatAt)).toEqual([at[1], at[2], at[3]]);
    for (const w of items) expect(w).toMatchObject({ workerId: 'w', runningTask: 'j/m-00000', runningAttempt: 1 });
    expect(a.abort.signal.aborted).toBe(false);
  });

  it('a refused extension because the job ended stops the attempt with JobEndedError, not a lost lease', async () => {
    const ended = Object.assign(new Error('Heartbeat refused: job j is CANCELLED'), {
      name: 'JobEndedError',
      current: { status: 'RUNNING', owner: 'w', attempt: 1, jobEnded: 'CANCELLED' },
    });
    const { s, clock } = flaky({ lease: () => ended });
    const hb = new Heartbeat(s, 'w');
    const a = attempt(clock.now);
    hb.track(a);
    clock.now += interval;
    await hb.beat();
    expect(a.abort.signal.aborted).toBe(true);
    expect((a.abort.signal.reason as Error).name).toBe('JobEndedError');
  });

  it('a refused extension (another attempt owns the task) stops the attempt; its own commit landing does not', async () => {
    const lost = (current: object) =>
      Object.assign(new Error('Heartbeat refused'), { name: 'LeaseLostError', current });
    const ref = attempt(0).ref;
    const mine = flaky({ lease: () => lost({ status: 'COMMITTED', owner: ref.owner, committedAttempt: ref.attempt }) });
    const a = attempt(mine.clock.now);
    const hb = new Heartbeat(mine.s, 'w');
    hb.track(a);
    mine.clock.now += interval;
    await hb.beat();
    expect(a.abort.signal.aborted).toBe(false);

    const theirs = flaky({ lease: () => lost({ status: 'RUNNING', owner: 'other', attempt: ref.attempt + 1 }) });
    const b = attempt(theirs.clock.now);
    const hb2 = new Heartbeat(theirs.s, 'w');
    hb2.track(b);
    theirs.clock.now += interval;
    await hb2.beat();
    expect(b.abort.signal.aborted).toBe(true);
    expect((b.abort.signal.reason as Error).name).toBe('LeaseLostError');
  });
});
