/**
 * The worker's heartbeat: every `heartbeatMs` it upserts the worker item, extends
 * the lease of the running attempt, keeps the SQS message hidden, and every few
 * beats checks that the job is still running. Losing the lease or the job ending
 * aborts the attempt.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';
import type { AttemptRef } from '../aws/task-store.js';
import { leaseMs } from '../core/config.js';
import { isErrorNamed, MapReduceError, type StaleStateError } from '../core/errors.js';
import type { TaskRecord } from '../core/model.js';
import { TASKS_QUEUE } from '../core/resources.js';
import type { Services } from '../services/context.js';

export interface TrackedAttempt {
  readonly ref: AttemptRef;
  readonly receiptHandle: string;
  readonly abort: AbortController;
  visibleUntil: number;
}

/** The reason an attempt is aborted because its job ended (cancelled or failed). */
export class JobEndedError extends MapReduceError {
  override readonly name = 'JobEndedError';
}

/**
 * The task a worker's AWS call is made for: set around each task message and around
 * each heartbeat of a running attempt. Read by the opt-in call log (MR_CALL_LOG in
 * worker/main.ts) to attribute control-plane calls to map and reduce tasks.
 */
export const callContext = new AsyncLocalStorage<{
  readonly jobId: string;
  readonly taskId: string;
  readonly heartbeat?: boolean;
}>();

/** Check the job's status every this many beats (a cheap read; cancel is not urgent). */
export const JOB_CHECK_EVERY = 3;

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beats = 0;
  private running: TrackedAttempt | undefined;
  private inFlight: Promise<void> | undefined;
  readonly startedAt: number;

  constructor(
    private readonly s: Services,
    readonly workerId: string,
  ) {
    this.startedAt = s.now();
  }

  start(): void {
    this.timer = setInterval(() => {
      this.inFlight ??= this.beat().finally(() => {
        this.inFlight = undefined;
      });
    }, this.s.timings.heartbeatMs);
    void this.beat();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  track(a: TrackedAttempt): void {
    this.running = a;
  }

  untrack(): void {
    this.running = undefined;
  }

  /** One heartbeat; errors are logged, never thrown (the next beat retries). */
  beat(): Promise<void> {
    const a = this.running;
    if (!a) return this.beatOnce(a);
    return callContext.run({ jobId: a.ref.jobId, taskId: a.ref.taskId, heartbeat: true }, () => this.beatOnce(a));
  }

  private async beatOnce(a: TrackedAttempt | undefined): Promise<void> {
    const s = this.s;
    const now = s.now();
    this.beats++;
    try {
      await s.workers.beat({
        workerId: this.workerId,
        heartbeatAt: now,
        startedAt: this.startedAt,
        host: os.hostname(),
        ...(a ? { runningTask: `${a.ref.jobId}/${a.ref.taskId}` } : {}),
      });
      if (!a || a.abort.signal.aborted) return;
      await s.tasks.heartbeat(a.ref, now, leaseMs(s.timings));
      const visibility = TASKS_QUEUE.visibilityTimeoutSeconds;
      if (now > a.visibleUntil - 3 * s.timings.heartbeatMs) {
        await s.taskQueue.setVisibility(a.receiptHandle, visibility);
        a.visibleUntil = now + visibility * 1000;
      }
      if (this.beats % JOB_CHECK_EVERY === 0) {
        const job = await s.jobs.get(a.ref.jobId, false);
        if (job && job.status !== 'RUNNING' && job.status !== 'CREATING') {
          a.abort.abort(new JobEndedError(`Job ${a.ref.jobId} is ${job.status}`, { context: { ...a.ref } }));
        }
      }
    } catch (err) {
      if (isErrorNamed(err, 'LeaseLostError') && a) {
        // The attempt's own commit landed while this beat was in flight: nothing was lost.
        const current = (err as StaleStateError).current as TaskRecord | undefined;
        if (current?.status === 'COMMITTED' && current.owner === a.ref.owner && current.committedAttempt === a.ref.attempt) {
          return;
        }
        s.log.warn('Lease lost; stopping the attempt', { ...a.ref });
        a.abort.abort(err);
        return;
      }
      s.log.warn('Heartbeat failed', { error: err as Error, workerId: this.workerId });
    }
  }
}
