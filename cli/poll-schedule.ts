/**
 * How long the CLI's wait sleeps before it reads the job record again (cli/job-client.ts
 * `waitForJob`). Pure: the wait passes what it read.
 *
 * Why not always 100 ms: each read is a GetItem that costs ~1.5–2.5 ms of the CLI's CPU and
 * ~1–2 ms of the emulator's, and on a local stack both run on the cores the workers map on:
 * 10 reads a second over a 6 s job are ~0.15–0.25 CPU-s (docs/performance.md, session 17).
 * Why 100 ms at the end: the read is most of the time between a job's end and the command's.
 *
 * The rule: the end needs every map committed and then the reduces. While the map work left
 * is more than the maps seen running at once can finish within one more map attempt, the
 * end is at least `remaining work / running maps − one attempt` away (the running attempts
 * may be almost done, so a whole attempt is taken off), and the wait reads a quarter of that
 * estimate apart, at most `WAIT_POLL_SLOW_MAX_MS`. Everything else reads every
 * `WAIT_POLL_MS`: before the first map commits (no pace yet), the map phase's last wave,
 * the reduce phase, a job whose reduces were released early (slow-start), a map-only job,
 * and a later step of a multi-step job (its input size is not on the record). Map work is
 * measured in bytes, so small maps at the end (largest are sent first) shorten the estimate.
 * When workers join during the map phase the estimate is too long; the cap bounds what
 * that costs: the end is then seen at most `WAIT_POLL_SLOW_MAX_MS` after it happened.
 */
import type { JobRecord } from '../core/model.js';

/** The wait's read interval when the end may be near (and its default). */
export const WAIT_POLL_MS = 100;
/** The longest interval between two reads, while the end is still far. */
export const WAIT_POLL_SLOW_MAX_MS = 400;
/** The slow interval is this share of the time the end is at least away. */
export const WAIT_POLL_SLOW_SHARE = 0.25;

/** The job record's fields the schedule reads. */
export type PollJobView = Pick<
  JobRecord,
  'status' | 'phase' | 'step' | 'numMaps' | 'numReduces' | 'mapsCommitted' | 'inputBytes' | 'reduceReleasedAt' | 'mapStatCount' | 'mapStatMs' | 'mapStatBytes'
>;

/**
 * The least time, ms, before the job can end, from its map phase's pace: undefined when the
 * record does not tell (see the rule above). `mapsRunningMax`: the most map attempts the
 * wait's task listings saw running at once in this step (0 before any listing).
 */
export function mapPhaseLeftMs(job: PollJobView, mapsRunningMax: number): number | undefined {
  if (job.status !== 'RUNNING' || job.phase !== 'MAP' || job.numReduces === 0 || job.reduceReleasedAt !== undefined) return undefined;
  if ((job.step ?? 0) !== 0 || mapsRunningMax < 1) return undefined;
  const count = job.mapStatCount ?? 0;
  const ms = job.mapStatMs ?? 0;
  const bytes = job.mapStatBytes ?? 0;
  if (count < 1 || ms <= 0 || bytes <= 0 || job.mapsCommitted >= job.numMaps) return undefined;
  const attemptMs = ms / count;
  const bytesPerAttemptMs = bytes / ms;
  const leftWorkMs = Math.max(0, job.inputBytes - bytes) / bytesPerAttemptMs;
  return leftWorkMs / mapsRunningMax - attemptMs;
}

/** How long to wait before the next read of the job record, ms (`job` undefined: not created yet). */
export function nextPollMs(job: PollJobView | undefined, mapsRunningMax: number): number {
  const left = job ? mapPhaseLeftMs(job, mapsRunningMax) : undefined;
  if (left === undefined) return WAIT_POLL_MS;
  return Math.round(Math.min(WAIT_POLL_SLOW_MAX_MS, Math.max(WAIT_POLL_MS, left * WAIT_POLL_SLOW_SHARE)));
}
