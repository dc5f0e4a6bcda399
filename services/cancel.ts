/**
 * Cancel a job, for every caller (the `cancel` command, Ctrl-C while waiting):
 * mark it CANCELLED (only from CREATING/RUNNING), then cancel its pending tasks so
 * nothing new starts and mark its running ones, which stop at their next lease extension
 * (services/job-end.ts).
 */
import type { JobStore } from '../aws/job-store.js';
import type { TaskStore } from '../aws/task-store.js';
import { UsageError } from '../core/errors.js';
import type { JobRecord } from '../core/model.js';
import { stopJobTasks } from './job-end.js';

/**
 * Returns the job as it was before the cancel. Throws UsageError when there is no
 * such job on `where` (a description of the stack) or it already ended.
 */
export async function cancelJob(
  stores: { readonly jobs: JobStore; readonly tasks: TaskStore },
  jobId: string,
  o: { readonly reason?: string; readonly where: string; readonly now?: () => number },
): Promise<JobRecord> {
  const { jobs, tasks } = stores;
  const job = await jobs.get(jobId);
  if (!job) throw new UsageError(`No job "${jobId}" on ${o.where}. List jobs with \`mapreduce jobs\`.`);
  const now = new Date((o.now ?? Date.now)()).toISOString();
  if (!(await jobs.end(jobId, 'CANCELLED', o.reason ?? 'cancelled by user', now))) {
    const current = await jobs.get(jobId);
    if (current?.phase === 'FINALIZING' && !['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(current.status)) {
      throw new UsageError(`Job ${jobId} is finishing (all its tasks committed); too late to cancel.`);
    }
    throw new UsageError(`Job ${jobId} is already ${current?.status ?? job.status}; nothing to cancel.`);
  }
  // 100 per transaction: a 10,000-task plan is 100 writes, not 10,000. Best effort, as
  // before: a task left PENDING by a failed write is still stopped, since a worker that
  // receives its message reads the job (CANCELLED) and cancels it (worker/task-claim.ts).
  await stopJobTasks(tasks, jobId, 'CANCELLED').catch(() => {});
  return job;
}
