/**
 * The worker's heartbeat: every `heartbeatMs` it extends the lease of the running
 * attempt, keeps the SQS message hidden, and every few beats of a task checks that the
 * job is still running; losing the lease or the job ending aborts the attempt. The
 * worker item (liveness for the checker and `status`) is upserted on every beat while
 * idle, and every WORKER_ITEM_EVERY beats while a task runs, when the task's lease
 * already proves the worker alive. A beat costs no call for a task whose lease was
 * written less than half an interval ago (by its claim), so short tasks make none.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';
import { type AttemptProgress, type AttemptRef, committedBy } from '../aws/task-store.js';
import { isErrorNamed, MapReduceError, type StaleStateError } from '../core/errors.js';
import type { TaskRecord } from '../core/model.js';
import { TASKS_QUEUE } from '../core/resources.js';
import type { Services } from '../services/context.js';
import { leaseMs } from '../services/task-lifecycle.js';
import { LOG_EVENTS } from '../core/log-events.js';

export interface TrackedAttempt {
  readonly ref: AttemptRef;
  readonly receiptHandle: string;
  readonly abort: AbortController;
  /** Bytes the attempt went through, written with each lease extension (speculation reads it). */
  readonly progress?: AttemptProgress;
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

/** Check the job's status every this many beats of a task (a cheap read; cancel is not urgent). */
export const JOB_CHECK_EVERY = 3;
/** While a task runs, upsert the worker item every this many beats (well under a lease of 5). */
export const WORKER_ITEM_EVERY = 3;

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private beats = 0;
  private running: TrackedAttempt | undefined;
  /** Beats since the running attempt was tracked, and when its lease was last written. */
  private taskBeats = 0;
  private leaseWrittenAt = 0;
  /** The running attempt's bytes at the last beat that saw them grow, and when (its claim at first). */
  private progressSeen = 0;
  private progressMovedAt = 0;
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

  /** Start beating for an attempt whose claim has just written its lease. */
  track(a: TrackedAttempt): void {
    this.running = a;
    this.taskBeats = 0;
    this.leaseWrittenAt = this.s.now();
    this.progressSeen = a.progress?.done ?? 0;
    this.progressMovedAt = this.leaseWrittenAt;
  }

  /** The attempt's progress as the lease write reports it, with when it last moved. */
  private sampleProgress(a: TrackedAttempt, now: number): AttemptProgress | undefined {
    if (!a.progress) return undefined;
    if (a.progress.done !== this.progressSeen) {
      this.progressSeen = a.progress.done;
      this.progressMovedAt = now;
    }
    return { done: a.progress.done, total: a.progress.total, movedAt: this.progressMovedAt };
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
    // The worker item and the lease are written independently: one failing (throttled,
    // timed out) never keeps the other from being written.
    if (!a || this.beats % WORKER_ITEM_EVERY === 0) {
      await s.workers
        .beat({
          workerId: this.workerId,
          heartbeatAt: now,
          startedAt: this.startedAt,
          host: os.hostname(),
          ...(a ? { runningTask: `${a.ref.jobId}/${a.ref.taskId}`, runningAttempt: a.ref.attempt } : {}),
        })
        .catch((err: unknown) => s.log.warn(LOG_EVENTS.heartbeatFailed, { error: err as Error, workerId: this.workerId }));
    }
    if (!a || a.abort.signal.aborted || a !== this.running) return;
    try {
      await this.beatTask(a, now);
    } catch (err) {
      if (isErrorNamed(err, 'LeaseLostError')) {
        // The attempt's own commit landed while this beat was in flight: nothing was lost.
        if (committedBy(a.ref, (err as StaleStateError<TaskRecord>).current)) return;
        s.log.warn(LOG_EVENTS.leaseLost, { ...a.ref });
        a.abort.abort(err);
        return;
      }
      // A lost write (throttled, timed out, connection reset) is not a lost lease: the
      // attempt keeps running and the next beat extends the lease again. Only a refused
      // write (another attempt owns the task) stops it; a lease that really ends while
      // writes keep failing is the checker's to reclaim, and the commit's fence decides.
      //
      //   beat ✓ ── beat ✗ (503) ── beat ✗ (timeout) ── beat ✓ (extends) ── commit ✓
      //   lease:  ──────────────────────────────|still running (5 beats long)
      s.log.warn(LOG_EVENTS.leaseExtensionFailed, { ...a.ref, error: err as Error });
    }
  }

  /** The running attempt's part of a beat: lease, message visibility, job check. */
  private async beatTask(a: TrackedAttempt, now: number): Promise<void> {
    const s = this.s;
    const beat = ++this.taskBeats;
    const progress = this.sampleProgress(a, now);
    // claim ──┬── beat (< ½ interval later: the claim's lease is fresh, skip) ── beat (extend) ──
    // so consecutive lease writes are at most 1½ intervals apart, against a lease of 5.
    if (now - this.leaseWrittenAt >= s.timings.heartbeatMs / 2) {
      // Each try is cut well inside the lease (leaseWriteAttemptMs, aws/task-store.ts) and
      // retried by the client, so one black-holed write does not outlast a healthy lease.
      await s.tasks.heartbeat(a.ref, now, leaseMs(s.timings), progress);
      this.leaseWrittenAt = now;
    }
    const visibility = TASKS_QUEUE.visibilityTimeoutSeconds;
    if (now > a.visibleUntil - 3 * s.timings.heartbeatMs) {
      await s.taskQueue.setVisibility(a.receiptHandle, visibility);
      a.visibleUntil = now + visibility * 1000;
    }
    if (beat % JOB_CHECK_EVERY === 0) {
      const job = await s.jobs.get(a.ref.jobId, false);
      if (job && job.status !== 'RUNNING' && job.status !== 'CREATING') {
        a.abort.abort(new JobEndedError(`Job ${a.ref.jobId} is ${job.status}`, { context: { ...a.ref } }));
      }
    }
  }
}
