/**
 * The worker's check for ended jobs' files (FileCache.dropEnded reads each job it holds
 * files of, and removes those of ended jobs). When the worker has nothing to do (an empty
 * receive) the check runs every three leases and is awaited. At a task boundary it runs
 * only once BUSY_ENDED_JOB_CHECK_FACTOR times that has passed (a worker that is never idle),
 * and beside the next claim instead of before it: it reads every held job one after the
 * other, and a worker that ran a few jobs back to back held five, whose reads (350 ms at a
 * load of 17) sat between a commit and the next claim (docs/performance.md, session 14).
 *
 *   before:  commit ── read job 1 ── … ── read job 5 ── claim next
 *   now:     commit ── claim next
 *            └─ (at most every 30 leases) read job 1 ── … ── read job 5
 */
import { leaseMs, type Timings } from '../core/config.js';

/** A task boundary checks this many times less often than an idle worker. */
export const BUSY_ENDED_JOB_CHECK_FACTOR = 10;

/** How often the check runs: every three leases when idle, BUSY_ENDED_JOB_CHECK_FACTOR × that at a task boundary. */
export function endedJobCheckEveryMs(t: Timings, idle: boolean): number {
  const every = leaseMs(t) * 3;
  return idle ? every : every * BUSY_ENDED_JOB_CHECK_FACTOR;
}

export class EndedJobSweep {
  private running: Promise<void> | undefined;

  /** `check(everyMs)` runs FileCache.dropEnded with that interval (it never throws: failures are logged). */
  constructor(
    private readonly timings: Timings,
    private readonly check: (everyMs: number) => Promise<void>,
  ) {}

  /** The worker's receive came back empty: check now (one running already is awaited instead). */
  async idle(): Promise<void> {
    await (this.running ?? this.start(true));
  }

  /** A task ended: start a check beside what follows, unless one is running. */
  taskBoundary(): void {
    if (!this.running) void this.start(false);
  }

  /** Resolves when no check is running (the loop awaits it at stop). */
  async settled(): Promise<void> {
    await this.running;
  }

  private start(idle: boolean): Promise<void> {
    const p = this.check(endedJobCheckEveryMs(this.timings, idle))
      .catch(() => {})
      .finally(() => {
        if (this.running === p) this.running = undefined;
      });
    this.running = p;
    return p;
  }
}
