/**
 * Idempotency of the two fan-out points: a coordinator invoked three times with the
 * same upload event creates one job and sends its map tasks once; the reduce phase
 * starts once even when the last two map tasks commit at the same instant.
 * Seeded directly in an isolated namespace of a private emulator (see privateEmulator).
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { manifestKey } from '../../core/layout.js';
import { newJobId } from '../../core/model.js';
import type { Services } from '../../services/context.js';
import { handleUpload } from '../../services/coordinator.js';
import { advanceJob } from '../../services/phases.js';
import { type Namespace, usePrivateNamespace } from '../helpers/emulators.js';
import { syntheticText } from '../helpers/index-job.js';
import { drainQueue, taskIdsOf } from '../helpers/queues.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

describe('idempotent fan-out', () => {
  const env = usePrivateNamespace();
  let ns: Namespace;
  let s: Services;
  const drain = (x: Services) => drainQueue(x, x.taskQueue, 0);

  beforeEach(() => {
    ({ ns, s } = env);
  });

  /** Upload input and a manifest (3 maps, 2 reduces); returns the job id and its event key. */
  async function upload(): Promise<{ jobId: string; key: string }> {
    const bucket = ns.names.bucket;
    await s.blobs.putBytes(bucket, 'in/words.txt', syntheticText(60));
    const jobId = newJobId();
    const key = manifestKey(jobId);
    await s.blobs.putBytes(
      bucket,
      key,
      JSON.stringify({
        input: `s3://${bucket}/in/`,
        output: `s3://${bucket}/out/${jobId}/`,
        mapper: 'cat',
        reducer: 'cat',
        numMappers: 3,
        numReducers: 2,
      }),
    );
    return { jobId, key };
  }

  async function expectOneJob(jobId: string): Promise<void> {
    const job = await s.jobs.get(jobId);
    expect(job).toMatchObject({ status: 'RUNNING', phase: 'MAP', numMaps: 3, numReduces: 2 });
    const tasks = await s.tasks.list(jobId);
    expect(tasks.map((t) => t.taskId)).toEqual(['m-00000', 'm-00001', 'm-00002', 'r-00000', 'r-00001']);
    expect(tasks.every((t) => t.status === 'PENDING' && t.attempt === 0)).toBe(true);
    expect((await s.jobs.listRecent(10)).filter((j) => j.jobId === jobId)).toHaveLength(1);
  }

  it('the coordinator invoked three times concurrently with the same event creates one job', async () => {
    const { jobId, key } = await upload();
    // Three Lambda invocations (own clients) handling the same S3 event at once.
    const invocations = [0, 1, 2].map(() => handleUpload(ns.services(Date.now), ns.names.bucket, key));
    const outcomes = (await Promise.all(invocations)).map((o) => o.outcome).sort();
    expect(outcomes).toEqual(['created', 'duplicate', 'duplicate']);
    await expectOneJob(jobId);
    expect(taskIdsOf(await drain(s))).toEqual(['m-00000', 'm-00001', 'm-00002']);
  });

  it('the coordinator invoked three times in a row with the same event creates one job and sends once', async () => {
    const { jobId, key } = await upload();
    const outcomes: string[] = [];
    for (let i = 0; i < 3; i++) outcomes.push((await handleUpload(s, ns.names.bucket, key)).outcome);
    expect(outcomes).toEqual(['created', 'duplicate', 'duplicate']);
    await expectOneJob(jobId);
    // A job past CREATING is never re-sent: exactly one message per map task.
    expect(taskIdsOf(await drain(s))).toEqual(['m-00000', 'm-00001', 'm-00002']);
  });

  it('a task record left without its job (a reused id) does not block the job: created by the fallback, every task written once', async () => {
    const { jobId, key } = await upload();
    // The one-transaction create (job + its <= 99 tasks) fails on this stray record's condition.
    await s.tasks.putNew([{ jobId, taskId: 'r-00001', kind: 'reduce', index: 1, status: 'PENDING', attempt: 0, failures: 0, stalls: 0 }]);
    expect((await handleUpload(s, ns.names.bucket, key)).outcome).toBe('created');
    await expectOneJob(jobId);
    expect((await s.jobs.get(jobId))?.tasksWritten).toBe(true);
    expect(taskIdsOf(await drain(s))).toEqual(['m-00000', 'm-00001', 'm-00002']);
  });

  it('the reduce phase starts once when the last two map tasks commit at the same instant', async () => {
    const now = Date.now();
    const jobId = newJobId();
    await s.jobs.create(runningJob(jobId, 2, 3, now));
    await s.tasks.putNew([...pendingTasks(jobId, 'map', 2), ...pendingTasks(jobId, 'reduce', 3)]);
    // Two workers, each with its own clients, each holding one of the last two map tasks.
    const w = [ns.services(Date.now), ns.services(Date.now)] as const;
    const refs = await Promise.all(
      w.map(async (ws, i) => {
        const taskId = `m-0000${i}`;
        const t = await ws.tasks.claim(jobId, taskId, `worker-${i}`, now, 60_000);
        return { jobId, taskId, owner: `worker-${i}`, attempt: t.attempt, startedAt: now };
      }),
    );
    const result = { output: { key: 'tmp/x', offsets: [0, 0, 0, 0] }, counters: { 'mapreduce.MAP_INPUT_RECORDS': 1 } };
    // Both commit at once, then both read the job and run the reduce trigger, as task-runner does.
    const outcomes = await Promise.all(
      w.map(async (ws, i) => {
        await ws.tasks.commit(refs[i] as (typeof refs)[number], ws.now(), result);
        const fresh = await ws.jobs.get(jobId);
        return advanceJob(ws, fresh!);
      }),
    );
    expect((await s.jobs.get(jobId))?.mapsCommitted).toBe(2);
    // Whatever each saw, at most one started the phase; the checker's safety net then acts
    // the same way and must not start it again.
    const checker = await advanceJob(s, (await s.jobs.get(jobId))!);
    expect([...outcomes, checker].filter((o) => o === 'reduce-started')).toHaveLength(1);
    const job = await s.jobs.get(jobId);
    expect(job).toMatchObject({ phase: 'REDUCE', mapsCommitted: 2, counters: { 'mapreduce.MAP_INPUT_RECORDS': 2 } });
    expect(job?.reduceEnqueuedAt).toBeDefined();
    expect(taskIdsOf(await drain(s))).toEqual(['r-00000', 'r-00001', 'r-00002']);
  });

  it('advanceJob called concurrently from two Services on a fully mapped job sends the reduce tasks once', async () => {
    const now = Date.now();
    const jobId = newJobId();
    await s.jobs.create({ ...runningJob(jobId, 4, 3, now), mapsCommitted: 4 });
    const job = (await s.jobs.get(jobId))!;
    const outcomes = await Promise.all([0, 1, 2, 3].map(() => advanceJob(ns.services(Date.now), job)));
    expect(outcomes.sort()).toEqual(['none', 'none', 'none', 'reduce-started']);
    expect(taskIdsOf(await drain(s))).toEqual(['r-00000', 'r-00001', 'r-00002']);
  });
});
