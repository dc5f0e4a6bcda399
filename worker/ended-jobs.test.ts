import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlobStore } from '../aws/blob-store.js';
import type { TaskItem } from '../aws/task-store.js';
import { DEFAULT_TIMINGS, leaseMs } from '../core/config.js';
import type { AcceptedJob } from '../core/model.js';
import { FileCache } from './attempt-dir.js';
import { BUSY_ENDED_JOB_CHECK_FACTOR, EndedJobSweep, endedJobCheckEveryMs } from './ended-jobs.js';

const SCRIPT = Buffer.from('#!/bin/sh\ncat\n');
const blobs = {
  getSized: async () => ({ body: Readable.from([SCRIPT]), size: SCRIPT.length }),
  getRange: async (_b: string, _k: string, from: number, to: number) => Readable.from([SCRIPT.subarray(from, to)]),
} as unknown as BlobStore;
const job = { jobId: 'j', manifest: { files: ['s3://code-bkt/code/j/map.sh'] } } as unknown as AcceptedJob;
const task = { taskId: 'm-00000', attempt: 1 } as TaskItem;

describe('endedJobCheckEveryMs: how often the worker loop looks for ended jobs', () => {
  let scratch = '';
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  /** Job reads of the check over `spanMs` of loop turns every `turnMs`, idle (empty receives) or busy (task boundaries). */
  async function readsOver(idle: boolean, turnMs: number, spanMs: number, ended = false): Promise<{ reads: number; droppedAt: number | undefined }> {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-worker-'));
    const cache = new FileCache(blobs, scratch);
    await cache.prepare(job, task);
    let reads = 0;
    let droppedAt: number | undefined;
    const t0 = 1_800_000_000_000;
    for (let now = t0; now <= t0 + spanMs; now += turnMs) {
      const dropped = await cache.dropEnded(async () => (reads++, ended), now, endedJobCheckEveryMs(DEFAULT_TIMINGS, idle));
      if (dropped.length > 0 && droppedAt === undefined) droppedAt = now - t0;
    }
    return { reads, droppedAt };
  }

  it('reads held jobs every three leases when idle, and at task boundaries only BUSY_ENDED_JOB_CHECK_FACTOR times as seldom', async () => {
    const every = leaseMs(DEFAULT_TIMINGS) * 3;
    // A worker whose receives come back empty every poll wait (20 s) for 10 minutes.
    const idle = await readsOver(true, DEFAULT_TIMINGS.pollWaitSeconds * 1000, 600_000);
    expect(idle.reads).toBeGreaterThanOrEqual(Math.floor(600_000 / (every + 20_000)));
    // A worker ending a task every second for 10 minutes: no job read at most boundaries.
    const busy = await readsOver(false, 1000, 600_000);
    expect(busy.reads).toBeLessThanOrEqual(Math.ceil(600_000 / (every * BUSY_ENDED_JOB_CHECK_FACTOR)) + 1);
    expect(busy.reads).toBeLessThan(600_000 / every / 2);
  });

  it('still drops an ended job of a worker that is never idle', async () => {
    const busy = await readsOver(false, 1000, 600_000, true);
    expect(busy.droppedAt).toBeDefined();
    expect(busy.reads).toBe(1);
  });
});

describe('EndedJobSweep', () => {
  it('runs the check of a task boundary beside what follows, and the idle one awaited', async () => {
    let release: () => void = () => {};
    const intervals: number[] = [];
    const sweep = new EndedJobSweep(DEFAULT_TIMINGS, (everyMs) => {
      intervals.push(everyMs);
      return new Promise<void>((r) => (release = r));
    });
    // The boundary returns at once while the check (its job reads) is still in flight.
    sweep.taskBoundary();
    expect(intervals).toEqual([endedJobCheckEveryMs(DEFAULT_TIMINGS, false)]);
    // No second check while one runs; an idle turn waits for the running one.
    sweep.taskBoundary();
    let idleDone = false;
    const idle = sweep.idle().then(() => (idleDone = true));
    let settled = false;
    const s = sweep.settled().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(intervals.length).toBe(1);
    expect(idleDone).toBe(false);
    expect(settled).toBe(false);
    release();
    await Promise.all([idle, s]);
    expect(idleDone && settled).toBe(true);
    // Idle with nothing running: its own check, awaited, at the idle interval.
    const next = sweep.idle();
    expect(intervals).toEqual([endedJobCheckEveryMs(DEFAULT_TIMINGS, false), endedJobCheckEveryMs(DEFAULT_TIMINGS, true)]);
    release();
    await next;
  });

  it('a failed check does not reject the loop', async () => {
    const sweep = new EndedJobSweep(DEFAULT_TIMINGS, () => Promise.reject(new Error('table gone')));
    sweep.taskBoundary();
    await expect(sweep.settled()).resolves.toBeUndefined();
    await expect(sweep.idle()).resolves.toBeUndefined();
  });
});
