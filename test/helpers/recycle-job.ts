/**
 * What the worker-recycling fault tests share: the index job they run on a plain and on a
 * recycling stack, the exactly-once checks of its tasks, and the wait for every recycled
 * process's exit (the last may still be stopping when the job ends).
 */
import type { ChildProcess } from 'node:child_process';
import { expect } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord } from '../../core/model.js';
import { indexJobBase } from './index-job.js';
import type { TestStack } from './stack.js';
import { waitFor } from './wait.js';
import { finish, type LogRecord, workerLogRecords } from './worker-logs.js';

/** One finished index job: its id, record and output parts. */
export interface RecycleJobRun {
  readonly jobId: string;
  readonly job: JobRecord;
  readonly parts: Buffer[];
}

/** Runs the index job `name` over `input` (its bytes) with `maps` maps and `reduces` reduces; it must succeed. */
export async function runRecycleIndexJob(t: TestStack, name: string, input: Buffer, maps: number, reduces: number): Promise<RecycleJobRun> {
  const base = await indexJobBase(t, name, input, {});
  const output = `s3://${t.bucket}/out/${name}/`;
  const jobId = await t.submit({ ...base, numMappers: maps, numReducers: reduces, output } as ManifestInput);
  const job = await finish(t, jobId, 180_000);
  expect(job.status, job.reason).toBe('SUCCEEDED');
  return { jobId, job, parts: await t.readParts(output, reduces) };
}

/**
 * Every task of the run committed once, by its first attempt, with no stall or failure, and
 * claimed exactly once (the workers' logs). Returns the claim records in log order.
 */
export async function expectEveryTaskOnce(t: TestStack, run: RecycleJobRun, maps: number, reduces: number): Promise<LogRecord[]> {
  const tasks = [...(await t.s.tasks.list(run.jobId, 'map')), ...(await t.s.tasks.list(run.jobId, 'reduce'))];
  expect(tasks).toHaveLength(maps + reduces);
  for (const task of tasks) expect(task, task.taskId).toMatchObject({ status: 'COMMITTED', committedAttempt: 1, stalls: 0, failures: 0 });
  expect(run.job.counters['mapreduce.FAILED_ATTEMPTS']).toBeUndefined();
  const claims = workerLogRecords(t, { jobId: run.jobId }).filter((r) => r.message === LOG_EVENTS.taskClaimed);
  expect(claims.map((r) => r.taskId).sort()).toEqual(tasks.map((x) => x.taskId).sort());
  return claims;
}

/** Waits until every worker that logged a recycle has exited; returns those log records and the exited processes. */
export async function recycledAndExited(t: TestStack): Promise<{ recycles: LogRecord[]; exited: ChildProcess[] }> {
  const exited = () => t.stack.workerProcesses.filter((c) => c.exitCode !== null || c.signalCode !== null);
  const recycles = () => workerLogRecords(t).filter((r) => r.message === LOG_EVENTS.workerRecycling);
  await waitFor('every recycling worker to exit', async () => exited().length === recycles().length || undefined, { timeoutMs: 30_000 });
  return { recycles: recycles(), exited: exited() };
}
