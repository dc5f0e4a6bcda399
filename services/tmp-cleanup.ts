/**
 * Deleting a succeeded job's intermediate objects: everything under `tmp/<jobId>/` (map
 * outputs, reduce attempts' parts, live logs, step outputs, split points).
 *
 * Who: whoever won the job's SUCCEEDED write in `finalizeJob` (services/phases.ts): the
 * worker that committed the last task, or the checker when it finished the job first (or
 * resumed a finisher that died). So it runs once, after `_SUCCESS` is written. Both hold
 * s3:DeleteObject on tmp/* of the stack bucket only. A finisher that dies between
 * SUCCEEDED and the delete, and objects a losing speculative attempt writes after the job
 * ended, are left to the tmp/ expiry rule (a day).
 *
 * A FAILED or CANCELLED job keeps its tmp/ objects (until the expiry rule) so its map
 * outputs and partial parts can be inspected.
 *
 * Best effort: a failure is logged and never fails the finished job.
 */
import { tmpPrefix } from '../core/layout.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { assertUnderPrefix } from '../core/s3uri.js';
import type { Services } from './context.js';

/** Delete `tmp/<jobId>/` of a job that has SUCCEEDED; returns how many objects went (0 on failure). */
export async function deleteSucceededJobTmp(s: Services, jobId: string): Promise<number> {
  const prefix = tmpPrefix(jobId); // ends with "/": job "a" never matches the objects of job "ab"
  try {
    const keys = (await s.blobs.list(s.names.bucket, prefix)).map((o) => o.key);
    for (const k of keys) assertUnderPrefix(k, prefix);
    await s.blobs.deleteMany(s.names.bucket, keys);
    s.log.info(LOG_EVENTS.jobTmpDeleted, { jobId, objects: keys.length });
    return keys.length;
  } catch (err) {
    s.log.warn(LOG_EVENTS.jobTmpDeleteFailed, { jobId, error: String(err) });
    return 0;
  }
}
