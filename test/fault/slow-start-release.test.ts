/**
 * Reduce slow-start's release on the emulator (seeded records, no workers): one fenced
 * write releases a step's reduces once, however many committers and checkers race; the
 * phase change then sends nothing again; the checker resends when the releaser died between
 * its write and its send; the default (1.0) writes and sends nothing early; a multi-step
 * job releases per step, with the step's own fraction.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { JobConfKeys } from '../../core/jobconf-keys.js';
import { validateManifest } from '../../core/manifest.js';
import { type JobRecord, newJobId } from '../../core/model.js';
import { sweep } from '../../services/checker.js';
import type { Services } from '../../services/context.js';
import { advanceJob } from '../../services/phases.js';
import { type Namespace, usePrivateNamespace } from '../helpers/emulators.js';
import { drainQueue, taskIdsOf } from '../helpers/queues.js';
import { runningJob } from '../helpers/seed-records.js';

describe('reduce slow-start release', () => {
  const env = usePrivateNamespace();
  let ns: Namespace;
  let s: Services;
  const drain = () => drainQueue(s, s.taskQueue, 0);

  beforeEach(() => {
    ({ ns, s } = env);
  });

  /** A RUNNING job in MAP with `committed` of `maps` maps committed and this slow-start fraction. */
  async function seed(maps: number, reduces: number, committed: number, fraction?: string, extra: Partial<JobRecord> = {}) {
    const now = Date.now();
    const jobId = newJobId();
    const base = runningJob(jobId, maps, reduces, now);
    const manifest = validateManifest({
      input: 's3://nowhere/in/',
      output: 's3://nowhere/out/',
      mapper: 'cat',
      reducer: 'cat',
      numReducers: reduces,
      ...(fraction !== undefined ? { jobconf: { [JobConfKeys.REDUCE_SLOWSTART]: fraction } } : {}),
    });
    await s.jobs.create({ ...base, manifest, mapsCommitted: committed, ...extra });
    return (await s.jobs.get(jobId))!;
  }

  it('committers and a checker racing at the threshold release once; the phase change later sends nothing again', async () => {
    const job = await seed(8, 3, 2, '0.25');
    const outcomes = await Promise.all([0, 1, 2, 3].map(() => advanceJob(ns.services(Date.now), job)));
    expect(outcomes.sort()).toEqual(['none', 'none', 'none', 'reduces-released']);
    expect(taskIdsOf(await drain())).toEqual(['r-00000', 'r-00001', 'r-00002']);
    const released = (await s.jobs.get(job.jobId))!;
    expect(released).toMatchObject({ phase: 'MAP', mapsCommitted: 2 });
    expect(released.reduceReleasedAt).toBeDefined();
    expect(released.reduceEnqueuedAt).toBeDefined();
    // A checker sweep and later commits below the end do nothing more.
    expect(await advanceJob(s, { ...released, mapsCommitted: 5 })).toBe('none');
    await sweep(s, 'test-run');
    expect(await drain()).toEqual([]);
    // The last map commits: the phase changes, and the reduces (running already) are not sent again.
    const ended = await seed(8, 3, 8, '0.25', { reduceReleasedAt: released.reduceReleasedAt, reduceEnqueuedAt: released.reduceEnqueuedAt });
    expect(await advanceJob(s, ended)).toBe('reduce-started');
    expect((await s.jobs.get(ended.jobId))?.phase).toBe('REDUCE');
    expect(await drain()).toEqual([]);
  });

  it('below the threshold, and with the default 1.0 at any count short of all maps, nothing is written or sent', async () => {
    const below = await seed(8, 2, 1, '0.25');
    expect(await advanceJob(s, below)).toBe('none');
    for (const committed of [0, 4, 7]) {
      const job = await seed(8, 2, committed);
      expect(await advanceJob(s, job)).toBe('none');
      expect((await s.jobs.get(job.jobId))?.reduceReleasedAt).toBeUndefined();
    }
    expect(await drain()).toEqual([]);
  });

  it('f = 0 releases before any map committed (at the checker sweep)', async () => {
    const job = await seed(4, 1, 0, '0');
    await sweep(s, 'test-run');
    expect(taskIdsOf(await drain())).toEqual(['r-00000']);
    expect((await s.jobs.get(job.jobId))?.reduceReleasedAt).toBeDefined();
  });

  it('the checker sends the reduces of a release whose releaser died before sending them', async () => {
    const longAgo = new Date(Date.now() - 3_600_000).toISOString();
    const job = await seed(8, 2, 3, '0.25', { reduceReleasedAt: longAgo });
    await sweep(s, 'test-run');
    expect(taskIdsOf(await drain())).toEqual(['r-00000', 'r-00001']);
    expect((await s.jobs.get(job.jobId))?.reduceEnqueuedAt).toBeDefined();
  });

  it("releases per step: a later step's own fraction, fenced on the step", async () => {
    const now = Date.now();
    const jobId = newJobId();
    const manifest = validateManifest({
      input: 's3://nowhere/in/',
      output: 's3://nowhere/out/',
      numReducers: 2,
      steps: [
        { mapper: 'cat', reducer: 'cat' },
        { mapper: 'cat', reducer: 'cat', jobconf: { [JobConfKeys.REDUCE_SLOWSTART]: '0.5' } },
      ],
    });
    await s.jobs.create({ ...runningJob(jobId, 4, 2, now), manifest, mapsCommitted: 2 });
    // Step 1 keeps the default: 2 of 4 maps release nothing.
    expect(await advanceJob(s, (await s.jobs.get(jobId))!)).toBe('none');
    // The same counts at step 2 (its record as enterStep leaves it) release step 2's reduces.
    await s.jobs.create({ ...runningJob(`${jobId}-b`, 4, 2, now), manifest, step: 1, mapsCommitted: 2 });
    expect(await s.jobs.releaseReduces(`${jobId}-b`, 0, 2, new Date().toISOString())).toBe(false);
    expect(await advanceJob(s, (await s.jobs.get(`${jobId}-b`))!)).toBe('reduces-released');
    expect(taskIdsOf(await drain())).toEqual(['s2-r-00000', 's2-r-00001']);
  });
});
