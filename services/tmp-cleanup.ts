/**
 * Deleting a succeeded job's intermediate objects: everything under `tmp/<jobId>/` (map
 * outputs, reduce attempts' parts, live logs, step outputs, split points).
 *
 * Who: the worker whose `finalizeJob` won the SUCCEEDED write (worker/task-runner.ts),
 * so it runs once, after `_SUCCESS` is written, and only workers hold s3:DeleteObject
 * (on tmp/* of the stack bucket only). When the checker finishes a job (its finisher
 * died), the tmp/ expiry rule removes the objects instead: the checker gets no delete
 * right for a rare path. Objects an attempt still writes after the job succeeded (a
 * losing speculative attempt) are left to that rule too.
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
