/**
 * Which map outputs a reduce attempt reads, and when: every committed map of its step,
 * each handed over as soon as it is seen committed. A reducer released when the last map
 * committed (the default) sees them all in its first read and never waits. One released
 * early (reduce slow-start, core/slow-start.ts) waits for the rest:
 *
 *   reducer:  list maps ─ 3/8 committed: fetch them
 *             wait 1 beat ─ job read: 3/8 ─ wait 2 beats ─ job read: 5/8 ─ list: fetch the 2 new
 *             ... ─ job read: 8/8 ─ list: fetch the last ─ return (the merge starts)
 *   job ends: job read: CANCELLED/FAILED ─▶ JobEndedError (a refused lease extension also aborts)
 *
 * Exactly-once: a map task is read only once COMMITTED, and only the attempt its commit
 * names (`output.key` is the committed attempt's object, one key per attempt). A commit is
 * final (a conditional write on RUNNING and the owner's lease), so a map attempt that was
 * killed, superseded or still running is never read, and a map re-run after its worker died
 * ran before its commit: nothing an early reducer fetched is ever replaced.
 */
import { isTerminal } from '../aws/job-store.js';
import { JobEndedError, MapReduceError } from '../core/errors.js';
import type { MapOutputRef } from '../aws/items.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { nextPollDelay, pollPolicy } from '../core/slow-start.js';
import type { Services } from '../services/context.js';

/** A committed map task: its output names the committed attempt's object. */
export type CommittedMap = MapOutputRef & { readonly output: NonNullable<MapOutputRef['output']> };

/** What the watch read, for the attempt's counters. */
export interface WatchStats {
  /** Reads of the job record while waiting (0 when every map had committed at the start). */
  jobReads: number;
  /** Listings of the step's map tasks (1 when every map had committed at the start). */
  mapListings: number;
}

/**
 * Hand every committed map of step `step` to `onCommitted`, each once, in batches as they
 * commit; returns when all `numMaps` did. `firstListing`, when it yields, is used as the
 * first listing (taken while the task was being claimed). Throws JobEndedError when the job ends meanwhile,
 * and the abort reason when `signal` aborts (lease lost, cancel seen by the heartbeat, shutdown).
 */
export async function watchCommittedMaps(
  s: Services,
  job: { readonly jobId: string; readonly numMaps: number },
  step: number,
  onCommitted: (maps: readonly CommittedMap[]) => Promise<void>,
  signal: AbortSignal,
  firstListing?: Promise<readonly MapOutputRef[] | undefined>,
): Promise<WatchStats> {
  const stats: WatchStats = { jobReads: 0, mapListings: 0 };
  const seen = new Set<string>();
  const policy = pollPolicy(s.timings.heartbeatMs);
  let delay = policy.minMs;
  let pending: Set<string>;
  for (;;) {
    stats.mapListings++;
    // The first listing may have gone out with the claim (worker/task-claim.ts).
    const early = stats.mapListings === 1 ? await firstListing : undefined;
    const tasks = early ?? (await s.tasks.listMapOutputs(job.jobId, step));
    const fresh = tasks.filter((t): t is CommittedMap => t.status === 'COMMITTED' && t.output !== undefined && !seen.has(t.taskId));
    for (const t of fresh) seen.add(t.taskId);
    if (fresh.length > 0) await onCommitted(fresh);
    if (seen.size >= job.numMaps) {
      if (stats.jobReads > 0) s.log.info(LOG_EVENTS.earlyReducerDone, { jobId: job.jobId, ...stats });
      return stats;
    }
    if (stats.mapListings === 1) s.log.info(LOG_EVENTS.earlyReducerWaiting, { jobId: job.jobId, committed: seen.size, numMaps: job.numMaps });
    // Wait for more commits: read only the job record's count (one item) until it moves.
    pending = new Set<string>();
    for (;;) {
      await sleep(delay, signal);
      stats.jobReads++;
      const current = await s.jobs.get(job.jobId, false);
      if (!current || isTerminal(current.status)) {
        throw new JobEndedError(`Job ${job.jobId} is ${current?.status ?? 'gone'}`, undefined, { context: { jobId: job.jobId } });
      }
      const progressed = current.mapsCommitted > seen.size;
      if (!progressed && delay >= policy.maxMs) pending = await yieldIfMapsWait(s, job.jobId, step, pending, stats);
      delay = nextPollDelay(delay, progressed, policy);
      if (progressed) break;
    }
  }
}

/**
 * An early reducer gives its worker back when, at two polls in a row at the longest
 * interval with no commit between, the same map of its step was PENDING (nobody ran it for
 * that long; a map merely between a reclaim and the next claim is not): workers are one
 * pool, so the map may be waiting for this very worker. Without this, R ≥ W early reducers
 * would hold every worker while the maps they wait for stay queued, for ever (Hadoop
 * preempts reducers for the same reason). The task runner releases the task and hides its message for a while
 * (worker/task-settle.ts), so the freed worker takes the map first.
 *
 *   worker A: r0 waits ─ (longest interval) list: m3 PENDING ─ again: m3 PENDING ─ yield ─ m3 ✓ ─ r0 again
 *   worker B: r1 waits ─────────────────────────────────────────────────────── fetch m3 ─ merge
 */
async function yieldIfMapsWait(s: Services, jobId: string, step: number, before: ReadonlySet<string>, stats: WatchStats): Promise<Set<string>> {
  stats.mapListings++;
  const pending = (await s.tasks.listMapTasks(jobId, step)).filter((t) => t.status === 'PENDING').map((t) => t.taskId);
  const still = pending.filter((id) => before.has(id));
  if (still.length > 0) {
    throw new ReduceYieldError(`maps ${still.join(', ')} are waiting for a worker`, { context: { jobId } });
  }
  return new Set(pending);
}

/** An early reducer hands its task back so that its worker can run the maps it waits for. */
export class ReduceYieldError extends MapReduceError {
  override readonly name = 'ReduceYieldError';
}

/** How long a yielded reduce task's message stays hidden: the longest poll interval. */
export function yieldDelayMs(heartbeatMs: number): number {
  return pollPolicy(heartbeatMs).maxMs;
}

/** Wait `ms`, or until `signal` aborts (then throw its reason). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
