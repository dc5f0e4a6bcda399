/**
 * The shared setup and checks of the tests that SIGKILL a worker in the middle of a task
 * (test/fault/kill.test.ts, test/fault/reduce-refetch.test.ts): a clean reference run of
 * the index job, the kill (with a replacement worker, as ECS starts one), and the checks
 * that the task was taken back once and redone by a later attempt.
 */
import { expect } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord, TaskKind, TaskRecord } from '../../core/model.js';
import { countWords, indexJobBase, indexWordTotal, syntheticText } from './index-job.js';
import type { TestStack } from './stack.js';
import { finish } from './worker-logs.js';
import { exited, signalWorker } from './worker-processes.js';

/** The index job (without its output) and its clean run: parts and job record. */
export interface CleanIndexRun {
  readonly base: Omit<ManifestInput, 'output'>;
  readonly clean: Buffer[];
  readonly cleanJob: JobRecord;
}

/** Run the index job over 400 synthetic lines once without faults, into out/<name>-clean/, and check it counted every word. */
export async function cleanIndexRun(t: TestStack, name: string, env: Record<string, string>): Promise<CleanIndexRun> {
  const input = syntheticText(400);
  const base = await indexJobBase(t, name, input, env);
  const output = `s3://${t.bucket}/out/${name}-clean/`;
  const cleanJob = await finish(t, await t.submit({ ...base, output } as ManifestInput));
  expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
  const clean = await t.readParts(output, 2);
  // The reference itself must be right: every input word counted once.
  const why = JSON.stringify({ counters: cleanJob.counters, tasks: await t.s.tasks.list(cleanJob.jobId) });
  expect(indexWordTotal(clean), why).toBe(countWords(input));
  return { base, clean, cleanJob };
}

/** SIGKILL the worker, wait until it is gone, and start a replacement (as ECS does). */
export async function killAndReplaceWorker(t: TestStack, workerId: string): Promise<void> {
  const child = signalWorker(t, workerId, 'SIGKILL');
  await exited(child);
  expect(child.signalCode).toBe('SIGKILL');
  t.stack.spawnWorker();
}

/**
 * Wait for the job to succeed and check that the killed attempt never committed: the
 * checker took the task back once (a stall, not a failure) and a later attempt committed it.
 * Returns the job and the task as they ended.
 */
export async function expectRedoneAfterStall(
  t: TestStack,
  jobId: string,
  kind: TaskKind,
  victim: Pick<TaskRecord, 'taskId' | 'attempt'>,
): Promise<{ job: JobRecord; task: TaskRecord | undefined }> {
  const job = await finish(t, jobId);
  expect(job.status, job.reason).toBe('SUCCEEDED');
  const task = (await t.s.tasks.list(jobId, kind)).find((x) => x.taskId === victim.taskId);
  expect(task).toMatchObject({ status: 'COMMITTED', failures: 0 });
  // The killed attempt was reclaimed (a stall). On a loaded machine a later attempt may lose
  // its lease too (one more stall), so the count is at least one, not exactly one.
  expect(task?.stalls).toBeGreaterThanOrEqual(1);
  expect(task?.history?.find((h) => h.attempt === victim.attempt)?.outcome).toBe('reclaimed');
  expect(task?.committedAttempt).toBeGreaterThan(victim.attempt);
  return { job, task };
}
