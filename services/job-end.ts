/**
 * A job's end, for every path that ends one (cancel, a task's last attempt failing, the
 * checker's reclaims and redrives): the job record first (only from CREATING/RUNNING), then
 * its tasks: PENDING ones are cancelled, and every one that may run is marked so that its
 * running attempt's next lease extension is refused (JobEndedError) and it stops within a
 * beat. Workers do not read the job on their beats.
 *
 *   end:     job FAILED ── list the job's tasks ── cancel PENDING, mark RUNNING (jobEnded)
 *   worker:  hb ✓ ── hb ✓ ───────────────────────────────────────────── hb ✗ JobEndedError → cancel attempt
 *
 * A task whose write is lost here still stops, later: a worker that receives its message
 * reads the job and cancels it (worker/task-claim.ts), and a running attempt's commit is
 * fenced on the job's status, so it is refused and the task goes back to the queue, where
 * the next receive cancels it.
 */
import type { JobStore } from '../aws/job-store.js';
import type { TaskStore } from '../aws/task-store.js';
import { LOG_EVENTS } from '../core/log-events.js';
import type { Services } from './context.js';

export type EndStatus = 'FAILED' | 'CANCELLED';

/** Stop the tasks of a job that has just ended (they are read here, id and status only). */
export async function stopJobTasks(tasks: TaskStore, jobId: string, status: EndStatus): Promise<void> {
  await tasks.stopForJobEnd(jobId, status, await tasks.listStatuses(jobId));
}

/**
 * End a job as FAILED or CANCELLED and stop its tasks. Returns false (and does nothing
 * else) when the job had already ended. Stopping the tasks is best effort: the job's end
 * holds, and what a lost write leaves running is stopped as the module comment says.
 */
export async function endJob(
  stores: { readonly jobs: JobStore; readonly tasks: TaskStore; readonly log: Services['log'] },
  jobId: string,
  status: EndStatus,
  reason: string,
  now: string,
): Promise<boolean> {
  if (!(await stores.jobs.end(jobId, status, reason, now))) return false;
  await stopJobTasks(stores.tasks, jobId, status).catch((err: unknown) => stores.log.warn(LOG_EVENTS.jobTasksStopFailed, { jobId, error: err as Error }));
  return true;
}
