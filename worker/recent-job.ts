/**
 * The job record read right after this worker's last commit. The next task of the same job
 * starting soon after uses it instead of reading the job again (one call less per task):
 * its manifest and a step's task counts never change, and a job that ended meanwhile is
 * caught by its end's mark on the task (the claim or the next lease extension is refused:
 * services/job-end.ts) and by the commit, which is fenced on the job's status. A task of
 * another step than the remembered record's (a multi-step job moved on) reads the job
 * again: the step's reducer count, and so the map's partition count, differ between steps.
 * The read is remembered while in flight: the worker's next claim may start before it
 * returns (worker/next-receive.ts), and then waits for it as it would for its own read.
 */
import type { JobRecord } from '../core/model.js';

/** How long (in beats) a remembered job record is used for the next task's claim. */
export const RECENT_JOB_BEATS = 3;

export class RecentJob {
  private last: { readonly table: string; readonly jobId: string; readonly job: Promise<JobRecord | undefined>; readonly at: number } | undefined;

  /** Remember a job read (in flight or done) of `jobId` in `table`, made at `now`. */
  remember(table: string, jobId: string, job: Promise<JobRecord | undefined>, now: number): void {
    this.last = { table, jobId, job, at: now };
  }

  forget(): void {
    this.last = undefined;
  }

  /**
   * The remembered record for a claim of a task of `step`, or undefined when there is none
   * young enough (`maxAgeMs`) for this job; `read` reads the job again when the remembered
   * read failed, found no job, or shows another step or a step change under way.
   */
  forClaim(
    o: { readonly table: string; readonly jobId: string; readonly step: number; readonly now: number; readonly maxAgeMs: number },
    read: () => Promise<JobRecord | undefined>,
  ): Promise<JobRecord | undefined> | undefined {
    const j = this.last;
    if (!j || j.table !== o.table || j.jobId !== o.jobId || o.now - j.at > o.maxAgeMs) return undefined;
    return j.job.then(
      (job) => (job && (job.step ?? 0) === o.step && job.phase !== 'STEPPING' ? job : read()),
      () => read(),
    );
  }
}

/** The worker's one memory of its last job read (a worker runs one task at a time). */
export const recentJob = new RecentJob();
