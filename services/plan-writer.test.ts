import { describe, expect, it } from 'vitest';
import type { InputSplit, TaskRecord } from '../core/model.js';
import type { Services } from './context.js';
import { PLAN_BATCH, PlanIncompleteError, type PlanResume, planTasks, writePlan } from './plan-writer.js';

const split = (i: number): InputSplit => ({ bucket: 'b', key: `in/f-${i}`, start: 0, end: 10, objectSize: 10, gzip: false });
const plan = (maps: number, numReduces = 4) => ({
  jobId: 'j',
  splits: Array.from({ length: maps }, (_, i) => split(i)),
  numReduces,
});

/** In-memory stand-ins for the stores the plan writer uses; `tick` advances the clock per call. */
function fakeServices(o: { tick?: number; creating?: () => boolean } = {}) {
  let clock = 0;
  const records = new Map<string, TaskRecord>();
  const sent: string[] = [];
  const progress: PlanResume & { tasksWritten?: boolean } = {};
  let largestWrite = 0;
  let writes = 0;
  let largestSend = 0;
  const s = {
    now: () => (clock += o.tick ?? 0),
    log: { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} },
    tasks: {
      putNew: async (tasks: readonly TaskRecord[]) => {
        largestWrite = Math.max(largestWrite, tasks.length);
        writes += tasks.length;
        for (const t of tasks) if (!records.has(t.taskId)) records.set(t.taskId, t);
      },
    },
    jobs: {
      recordPlanProgress: async (_: string, field: 'planWritten' | 'planSent', n: number) => {
        if (o.creating && !o.creating()) return false;
        (progress as Record<string, number>)[field] = n;
        return true;
      },
      markTasksWritten: async () => {
        (progress as Record<string, boolean>).tasksWritten = true;
        return true;
      },
    },
    taskQueue: {
      sendAll: async (bodies: readonly string[]) => {
        largestSend = Math.max(largestSend, bodies.length);
        sent.push(...bodies.map((b) => (JSON.parse(b) as { taskId: string }).taskId));
      },
    },
  } as unknown as Services;
  return { s, records, sent, progress, largest: () => ({ write: largestWrite, send: largestSend }), writes: () => writes };
}

describe('planTasks', () => {
  it('numbers maps in split order, then reduces, for any window', () => {
    const p = plan(3, 2);
    expect(planTasks(p, 0, 10).map((t) => t.taskId)).toEqual(['m-00000', 'm-00001', 'm-00002', 'r-00000', 'r-00001']);
    const window = planTasks(p, 2, 4);
    expect(window.map((t) => [t.taskId, t.kind, t.index])).toEqual([
      ['m-00002', 'map', 2],
      ['r-00000', 'reduce', 0],
    ]);
    expect(window[0]?.split).toEqual(split(2));
  });
});

describe('writePlan', () => {
  it('writes every task once and sends every map task, in bounded calls', async () => {
    const f = fakeServices();
    expect(await writePlan(f.s, plan(5000), undefined)).toBe(true);
    expect(f.records.size).toBe(5004);
    expect(f.sent).toHaveLength(5000);
    expect(new Set(f.sent).size).toBe(5000);
    expect(f.progress.tasksWritten).toBe(true);
    // One transaction holds at most 100 items; one send call at most 50 messages.
    expect(f.largest().write).toBeLessThanOrEqual(100);
    expect(f.largest().send).toBeLessThanOrEqual(50);
  });

  it('stops when its budget is spent, recording progress; the next call resumes and sends the rest', async () => {
    // Each clock read advances 1 s: the 2.5 s budget ends after a few steps.
    const f = fakeServices({ tick: 1000 });
    const big = plan(6000, 4);
    await expect(writePlan(f.s, big, undefined, 2500)).rejects.toBeInstanceOf(PlanIncompleteError);
    const after1 = f.progress.planWritten ?? 0;
    expect(after1).toBeGreaterThanOrEqual(PLAN_BATCH);
    expect(after1).toBeLessThan(6004);
    expect(f.records.size).toBe(after1);
    expect(f.sent).toHaveLength(0);
    // Resumed invocations (fresh budget each) until done, as SQS redelivery would do.
    for (let i = 0; i < 20; i++) {
      try {
        await writePlan(f.s, big, { ...f.progress }, 2500);
        break;
      } catch (err) {
        expect(err).toBeInstanceOf(PlanIncompleteError);
      }
    }
    expect(f.records.size).toBe(6004);
    expect(new Set(f.sent).size).toBe(6000);
    // Budgets end between steps, after their progress was recorded: nothing written or sent twice.
    expect(f.writes()).toBe(6004);
    expect(f.sent).toHaveLength(6000);
  });

  it('resumes from recorded progress without rewriting or resending what was done', async () => {
    const f = fakeServices();
    await writePlan(f.s, plan(3000), { tasksWritten: true, planSent: 2000 });
    expect(f.records.size).toBe(0);
    expect(f.sent).toEqual(Array.from({ length: 1000 }, (_, i) => `m-${String(2000 + i).padStart(5, '0')}`));
  });

  it('sends the largest split first, and a resumed plan sends the rest of that same order', async () => {
    const sized = (i: number, size: number): InputSplit => ({ ...split(i), end: size, objectSize: size });
    // Key order: small, small, large, medium, large (indices 0-4).
    const p = { jobId: 'j', splits: [sized(0, 10), sized(1, 10), sized(2, 90), sized(3, 50), sized(4, 90)], numReduces: 1 };
    const all = fakeServices();
    await writePlan(all.s, p, undefined);
    expect(all.sent).toEqual(['m-00002', 'm-00004', 'm-00003', 'm-00000', 'm-00001']);
    // Task numbers stay in split order.
    expect(all.records.get('m-00002')?.split).toEqual(p.splits[2]);
    const rest = fakeServices();
    await writePlan(rest.s, p, { tasksWritten: true, planSent: 2 });
    expect(rest.sent).toEqual(['m-00003', 'm-00000', 'm-00001']);
  });

  it('stops sending when the job is no longer being created (cancelled meanwhile)', async () => {
    const f = fakeServices({ creating: () => false });
    expect(await writePlan(f.s, plan(3000), undefined)).toBe(false);
    expect(f.records.size).toBe(PLAN_BATCH);
    expect(f.sent).toHaveLength(0);
  });
});
