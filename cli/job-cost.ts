/** A job's modeled AWS cost, read from its task records (for `status`, `run`, `submit --wait`). */
import { jobAttempts, type TaskRecordItem } from '../core/attempts.js';
import { itemSizes, type JobCost, jobCost } from '../core/job-cost.js';
import type { JobRecord } from '../core/model.js';
import type { Target } from './target.js';

/** The cost from task records already read. */
export function costOfTasks(job: JobRecord, tasks: readonly TaskRecordItem[], now = Date.now()): JobCost {
  return jobCost(job, jobAttempts(job, tasks, now), itemSizes(job, tasks));
}

/** Read the job's task records and model its cost. */
export async function fetchJobCost(t: Target, job: JobRecord): Promise<JobCost> {
  const { TaskStore } = await import('../aws/task-store.js');
  return costOfTasks(job, await new TaskStore(t.clients, t.names.table).list(job.jobId));
}
