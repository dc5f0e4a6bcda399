/**
 * Reduce slow-start (Hadoop's `mapreduce.job.reduce.slowstart.completedmaps`): when the
 * reduce tasks of a step are released, and how often an early reducer looks for more
 * committed maps. Pure: the fenced write that applies the release is JobStore.releaseReduces.
 *
 *   maps:     m0 ✓   m1 ✓   m2 ·····✓      m3 ······✓
 *   release:        ▲ committed ≥ ceil(f·M)   (f = 0.5, M = 4: after the 2nd commit)
 *   reducer:        claim, fetch m0 m1 ─ wait ─ fetch m2 ─ wait ─ fetch m3, merge, reduce, commit
 *   phase:    MAP ─────────────────────────────────────▶ REDUCE (last map commit, as before)
 *
 * Our default is 1.0 (reduces are sent when the last map commits), not Hadoop's 0.05:
 * workers are one pool, so a reducer started early holds a worker that maps could use.
 */

/** Our default fraction: reduces start when every map committed (Hadoop's default is 0.05). */
export const DEFAULT_REDUCE_SLOWSTART = 1;

/**
 * Committed maps needed before the reduces are released: ceil(f × M), as Hadoop's
 * JobInProgress computes `completedMapsForReduceSlowstart`, within [0, M]. The product is
 * rounded to 9 decimals first, so 0.07 × 100 (7.000000000000001 in binary floating point)
 * needs 7 maps, not 8.
 */
export function reduceReleaseThreshold(fraction: number, numMaps: number): number {
  const product = Math.round(fraction * numMaps * 1e9) / 1e9;
  return Math.min(numMaps, Math.max(0, Math.ceil(product)));
}

/** The job record fields the release rule reads. */
export interface ReleaseView {
  readonly status: string;
  readonly phase: string;
  readonly numMaps: number;
  readonly numReduces: number;
  readonly mapsCommitted: number;
  readonly reduceReleasedAt?: string;
}

/**
 * True when this step's reduce tasks should be released before the map phase ends: the
 * step has reducers, is in its map phase, was not released yet, enough maps committed,
 * and not all of them (with every map committed, the phase change sends the reduces, as
 * without slow-start: so f = 1 changes nothing).
 */
export function shouldReleaseReduces(job: ReleaseView, fraction: number): boolean {
  return (
    (job.status === 'RUNNING' || job.status === 'CREATING') &&
    job.phase === 'MAP' &&
    job.numReduces > 0 &&
    job.reduceReleasedAt === undefined &&
    job.mapsCommitted < job.numMaps &&
    job.mapsCommitted >= reduceReleaseThreshold(fraction, job.numMaps)
  );
}

/** How an early reducer polls for map commits. */
export interface PollPolicy {
  /** First wait, and the wait after a poll that found new commits. */
  readonly minMs: number;
  /** Longest wait (the backoff doubles up to this). */
  readonly maxMs: number;
}

/**
 * The poll policy for a heartbeat interval: from one beat up to four (2 s to 8 s by
 * default), so an early reducer costs at most one job read per beat while maps commit and
 * one per four beats while they do not.
 */
export function pollPolicy(heartbeatMs: number): PollPolicy {
  return { minMs: heartbeatMs, maxMs: heartbeatMs * 4 };
}

/** The next wait: back to the minimum after progress, else doubled up to the maximum. */
export function nextPollDelay(previousMs: number, progressed: boolean, p: PollPolicy): number {
  if (progressed) return p.minMs;
  return Math.min(p.maxMs, Math.max(p.minMs, previousMs * 2));
}
