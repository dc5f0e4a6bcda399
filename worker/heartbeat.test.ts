import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMINGS } from '../core/config.js';
import type { Services } from '../services/context.js';
import { Heartbeat, JOB_CHECK_EVERY, type TrackedAttempt, WORKER_ITEM_EVERY } from './heartbeat.js';

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
    // Beat n (counting from the first one after the claim): lease always, the job every
    // JOB_CHECK_EVERY-th beat of the task, the worker item every WORKER_ITEM_EVERY-th beat.
    perBeat.forEach((c, i) => {
      const n = i + 2;
      expect(c.filter((x) => x === 'lease')).toHaveLength(1);
      expect(c.includes('job')).toBe(n % JOB_CHECK_EVERY === 0);
      expect(c.includes('worker')).toBe(n % WORKER_ITEM_EVERY === 0);
    });
  });

  it('extends the lease on the first beat when the claim is over half an interval old', async () => {
    const { s, calls, clock } = fakeServices();
    const hb = new Heartbeat(s, 'w');
    hb.track(attempt(clock.now));
    clock.now += interval * 0.6;
    await hb.beat();
    expect(calls).toEqual(['lease']);
  });

  it('aborts the attempt when the job check finds the job ended', async () => {
    const { s, clock } = fakeServices('CANCELLED');
    const hb = new Heartbeat(s, 'w');
    const a = attempt(clock.now);
    hb.track(a);
    for (let i = 0; i < JOB_CHECK_EVERY; i++) {
      clock.now += interval;
      await hb.beat();
    }
    expect(a.abort.signal.aborted).toBe(true);
    expect((a.abort.signal.reason as Error).name).toBe('JobEndedError');
  });
});
