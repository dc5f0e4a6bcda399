/**
 * Writing a job's plan (task records, then map-task messages) in bounded chunks,
 * so that one big job never holds the coordinator for long: each invocation writes
 * batches of PLAN_BATCH tasks for at most PLAN_SECONDS_PER_INVOCATION (and at most
 * PLAN_TASKS_PER_INVOCATION tasks), then queues a continuation message behind the
 * submissions already waiting.
 *
 *   invocation 1: splits → jobs/<id>/_plan.json (plans over one batch) → job CREATING
 *                 → every reduce task → batches of map tasks, each then its messages
 *                 → time is up: continue at C
 *   invocation k: job still CREATING? → read _plan.json → batches from C → ...
 *   last:         tasksWritten, CREATING → RUNNING
 *
 * Every step is idempotent (task puts are conditional, a repeated message is a
 * duplicate delivery workers already tolerate), so a coordinator killed between
 * any two steps is resumed by the redelivered message.
 */
import { DoNotRetryError } from '../core/errors.js';
import { jobPrefix } from '../core/layout.js';
import { type InputSplit, type JobRecord, type TaskRecord, taskId } from '../core/model.js';
import { type Services, iso } from './context.js';
import { sendTaskMessages } from './task-lifecycle.js';

/** Map tasks written, then sent, together; the first batch is always written. */
export const PLAN_BATCH = 100;
/** At most this many map tasks per coordinator invocation... */
export const PLAN_TASKS_PER_INVOCATION = 2000;
/** ...and no new batch after this long (a slow table or queue shortens the chunk, never the others' turn). */
export const PLAN_SECONDS_PER_INVOCATION = 5;

/** Where the splits of a plan too big for one invocation are kept while it is written. */
export const planKey = (jobId: string): string => `${jobPrefix(jobId)}_plan.json`;

/** The submissions-queue message that continues writing a plan. */
export interface PlanContinuation {
  readonly kind: 'plan';
  readonly jobId: string;
  readonly from: number;
}

/** Store the splits when the plan may take more than one invocation (before the job record exists). */
export async function storePlanIfBig(s: Services, jobId: string, splits: readonly InputSplit[]): Promise<void> {
  if (splits.length > PLAN_BATCH) {
    await s.blobs.putBytes(s.names.bucket, planKey(jobId), JSON.stringify(splits), 'application/json');
  }
}

/** The stored splits of a big plan, checked against the job record that counts them. */
export async function loadPlan(s: Services, job: JobRecord): Promise<InputSplit[]> {
  const text = await s.blobs.getTextIfExists(s.names.bucket, planKey(job.jobId));
  const splits = text === undefined ? undefined : (JSON.parse(text) as InputSplit[]);
  if (!Array.isArray(splits) || splits.length !== job.numMaps) {
    throw new DoNotRetryError(
      `the stored plan of job ${job.jobId} (${planKey(job.jobId)}) is missing or does not match its ${job.numMaps} map tasks`,
      { context: { jobId: job.jobId } },
    );
  }
  return splits;
}

/**
 * Write map tasks from `from` on, batch by batch, and send their messages (the
 * reduce tasks before the first batch); stop when the plan is written or this
 * invocation's share is used, and queue the rest. Returns the map tasks written so far.
 */
export async function writePlanChunk(s: Services, job: JobRecord, splits: readonly InputSplit[], from: number): Promise<number> {
  const { jobId } = job;
  const base = { jobId, status: 'PENDING' as const, attempt: 0, failures: 0, stalls: 0 };
  if (from === 0 && job.numReduces > 0) {
    await s.tasks.putNew(
      Array.from({ length: job.numReduces }, (_, index): TaskRecord => ({ ...base, taskId: taskId('reduce', index), kind: 'reduce', index })),
    );
  }
  const started = s.now();
  const last = Math.min(splits.length, from + PLAN_TASKS_PER_INVOCATION);
  let at = from;
  do {
    const to = Math.min(last, at + PLAN_BATCH);
    const tasks: TaskRecord[] = [];
    for (let index = at; index < to; index++) {
      tasks.push({ ...base, taskId: taskId('map', index), kind: 'map', index, split: splits[index]! });
    }
    await s.tasks.putNew(tasks);
    await sendTaskMessages(s.taskQueue, jobId, tasks.map((t) => t.taskId));
    at = to;
  } while (at < last && s.now() - started < PLAN_SECONDS_PER_INVOCATION * 1000);
  if (at < splits.length) {
    await s.submissionQueue.sendAll([JSON.stringify({ kind: 'plan', jobId, from: at } satisfies PlanContinuation)]);
    s.log.info('Job plan continues', { jobId, written: at, numMaps: splits.length });
    return at;
  }
  await s.jobs.markTasksWritten(jobId, iso(s.now()));
  await s.jobs.markRunning(jobId, iso(s.now()));
  return at;
}
