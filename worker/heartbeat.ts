/**
 * The worker's heartbeat: every `heartbeatMs` it extends the lease of the running
 * attempt and keeps the SQS message hidden; a refused extension aborts the attempt, as a
 * lost lease (LeaseLostError) or because its job ended (JobEndedError: a cancel or a job
 * failure marks the job's tasks, services/job-end.ts, so no beat reads the job). The worker
 * item (liveness for the checker and `status`) is upserted on every beat while idle; while
 * a task runs the task's lease proves the worker alive (services/task-lifecycle.ts
 * `leaseHolders`), and the item is written only while lease writes fail, so the checker
 * keeps an attempt whose lease writes are lost (`shouldReclaim`). A beat costs no call for
 * a task whose lease was written less than half an interval ago (by its claim), so short
 * tasks make none.
 *
 * A lease keeper (worker/lease-keeper.ts), a thread of its own, keeps the lease and the
 * message while user code blocks this thread, and writes the item when it steps in; when
 * it does, and how, is decided here too (keeperActions, workerItem), so the heartbeat
 * policy has one home.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';
import { type AttemptProgress, type AttemptRef, committedBy } from '../aws/task-store.js';
import { isErrorNamed, type StaleStateError } from '../core/errors.js';
import type { TaskRecord, WorkerRecord } from '../core/model.js';
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
  /**
   * How long the keeper may keep the lease while this thread does not beat (the task
   * timeout: a sync call blocking longer loses its lease, as a silent Hadoop task is
   * killed after mapreduce.task.timeout). Set for attempts that run module code on this
   * thread; without it, the keeper keeps nothing (an executable runs in its own process).
   */
  readonly blockedLimitMs?: number;
  visibleUntil: number;
}

/**
 * What the heartbeat tells a lease keeper: the attempt it tracks, when this thread last
 * beat, and what this thread wrote. A keeper reports a refused lease write back through
 * Heartbeat.leaseRefused (only once this thread is free again, by its nature).
 */
export interface KeeperLink {
  /** `item` is the worker item naming `a` (workerItem), for the keeper to write when it steps in. */
  track(a: TrackedAttempt, now: number, item: WorkerRecord): void;
  /** Resolves when the keeper can act for the tracked attempt (its thread is up). */
  ready(): Promise<void>;
  untrack(): void;
  /** This thread's beat timer ran at `now`: its event loop is not blocked. */
  beat(now: number): void;
  leaseWritten(at: number): void;
  /** The message's visibility as this thread or the keeper last extended it. */
  visibleUntil(): number;
  visibilityExtended(until: number): void;
}

/** The keeper steps in when this thread has not beaten for this many intervals. */
export const KEEPER_STEPS_IN_AFTER_BEATS = 1.5;

/** What a lease keeper sees of the attempt it keeps (epoch ms, as written by either thread). */
export interface KeeperView {
  readonly mainBeatAt: number;
  readonly leaseWrittenAt: number;
  readonly visibleUntil: number;
  readonly blockedLimitMs: number;
}

/** The message must be hidden again: it is visible again within 3 intervals. */
export function visibilityDue(visibleUntil: number, now: number, heartbeatMs: number): boolean {
  return now > visibleUntil - 3 * heartbeatMs;
}

/** What only the keeper knows of the attempt it keeps: its own worker-item and lease writes. */
export interface KeeperOwn {
  /** When the keeper last wrote the worker item for this attempt (0: never). */
  readonly itemWrittenAt: number;
  /** The keeper's last lease write for this attempt failed (lost, not refused). */
  readonly leaseFailing: boolean;
}

export interface KeeperDecision {
  readonly lease: boolean;
  readonly visibility: boolean;
  readonly item: boolean;
}

const KEEPS_NOTHING: KeeperDecision = { lease: false, visibility: false, item: false };

/**
 * The lease keeper's decision at `now`: nothing while this thread beats (it does all of
 * it, the keeper only watches), and once it has been silent for 1½ intervals, the lease
 * (at most once an interval, the heartbeat's own pace) and the message's visibility (the
 * same rule as a beat). Past `blockedLimitMs` of silence it stops, so the lease lapses and
 * the checker takes the task back, as before:
 *
 *   main:    beat  beat ── sync reduce (blocked) ─────────────────────────── beat  commit
 *   keeper:              ·  ·  · lease  lease  lease  lease ... (1½ intervals silent)
 *   item:                        ✓ (stepped in)   (✓ beside each while lease writes fail)
 *   lease:   ────────────────────────────────────────────────────────────────────────▶
 *   limit:               |──────────────── blockedLimitMs ───────────────|→ keeper stops
 *
 * The worker item, naming the attempt, goes out beside the keeper's first lease write after
 * this thread last beat (the checker's second witness for a blocked attempt: shouldReclaim
 * keeps an attempt its fresh owner names), and beside its lease writes, at most once an
 * interval, while they fail, as a beat does. An attempt that never blocks past a beat
 * costs no item write.
 */
export function keeperActions(v: KeeperView, now: number, heartbeatMs: number, own: KeeperOwn = { itemWrittenAt: 0, leaseFailing: false }): KeeperDecision {
  const silent = now - v.mainBeatAt;
  if (silent <= KEEPER_STEPS_IN_AFTER_BEATS * heartbeatMs || silent > v.blockedLimitMs) return KEEPS_NOTHING;
  const lease = now - v.leaseWrittenAt >= heartbeatMs;
  const steppingIn = own.itemWrittenAt <= v.mainBeatAt;
  const item = lease && (steppingIn || (own.leaseFailing && now - own.itemWrittenAt >= heartbeatMs));
  return { lease, visibility: visibilityDue(v.visibleUntil, now, heartbeatMs), item };
}

/** The worker item as either thread writes it: this worker, alive at `now`, running `a` (or idle). */
export function workerItem(workerId: string, startedAt: number, now: number, a: TrackedAttempt | undefined): WorkerRecord {
  return {
    workerId,
    heartbeatAt: now,
    startedAt,
    host: os.hostname(),
    ...(a ? { runningTask: `${a.ref.jobId}/${a.ref.taskId}`, runningAttempt: a.ref.attempt } : {}),
  };
}

/** The reason an attempt is aborted because its job ended (cancelled or failed). */
export { JobEndedError } from '../core/errors.js';

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

export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private running: TrackedAttempt | undefined;
  /** The last lease write of the running attempt failed (lost, not refused). */
  private leaseWriteFailing = false;
  /** When the running attempt's lease was last written. */
  private leaseWrittenAt = 0;
  /** The running attempt's bytes at the last beat that saw them grow, and when (its claim at first). */
  private progressSeen = 0;
  private progressMovedAt = 0;
  private inFlight: Promise<void> | undefined;
  readonly startedAt: number;

  constructor(
    private readonly s: Services,
    readonly workerId: string,
    private readonly keeper?: KeeperLink,
  ) {
    this.startedAt = s.now();
  }

  start(): void {
    this.timer = setInterval(() => {
      // The event loop runs (a beat still in flight, slow or failing, is this thread's to handle).
      this.keeper?.beat(this.s.now());
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
    this.leaseWriteFailing = false;
    this.leaseWrittenAt = this.s.now();
    this.progressSeen = a.progress?.done ?? 0;
    this.progressMovedAt = this.leaseWrittenAt;
    // Module code may block this thread from its first call on: the lease keeper then keeps
    // the lease and writes the item naming the attempt (keeperActions), not this thread.
    this.keeper?.track(a, this.leaseWrittenAt, workerItem(this.workerId, this.startedAt, this.leaseWrittenAt, a));
  }

  /** Resolves when the lease keeper can keep the tracked attempt's lease (at once without one). */
  keeperReady(): Promise<void> {
    return this.keeper?.ready() ?? Promise.resolve();
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
    this.keeper?.untrack();
  }

  /**
   * A lease write of `a` was refused: stop the attempt, unless its own commit landed
   * meanwhile (nothing was lost then). JobEndedError (its job's end marked the task) stops
   * it as a cancel; LeaseLostError (another attempt owns it) as a lost lease. Also the
   * lease keeper's report.
   */
  leaseRefused(a: TrackedAttempt, err: StaleStateError<TaskRecord>): void {
    if (a !== this.running || a.abort.signal.aborted || committedBy(a.ref, err.current)) return;
    this.s.log.warn(isErrorNamed(err, 'JobEndedError') ? LOG_EVENTS.jobEndedStopping : LOG_EVENTS.leaseLost, { ...a.ref });
    a.abort.abort(err);
  }

  /** One heartbeat; errors are logged, never thrown (the next beat retries). */
  beat(): Promise<void> {
    const a = this.running;
    if (!a) return this.beatOnce(a);
    return callContext.run({ jobId: a.ref.jobId, taskId: a.ref.taskId, heartbeat: true }, () => this.beatOnce(a));
  }

  private async beatOnce(a: TrackedAttempt | undefined): Promise<void> {
    const now = this.s.now();
    if (!a) return this.writeWorkerItem(now, undefined);
    if (a.abort.signal.aborted || a !== this.running) return;
    // While lease writes fail, the worker item goes out beside each one (not after it: a
    // write that hangs would hold it), so the checker sees this worker run the attempt.
    const item = this.leaseWriteFailing ? this.writeWorkerItem(now, a) : undefined;
    try {
      await this.beatTask(a, now);
      this.leaseWriteFailing = false;
    } catch (err) {
      if (isErrorNamed(err, 'LeaseLostError') || isErrorNamed(err, 'JobEndedError')) return this.leaseRefused(a, err as StaleStateError<TaskRecord>);
      // A lost write (throttled, timed out, connection reset) is not a lost lease: the
      // attempt keeps running and the next beat extends the lease again. Only a refused
      // write (another attempt owns the task, or its job ended) stops it; a lease that really
      // ends while writes keep failing is the checker's to reclaim, and the commit's fence decides.
      //
      //   beat ✓ ── beat ✗ (503) ── beat ✗ (timeout) ── beat ✓ (extends) ── commit ✓
      //   lease:  ──────────────────────────────|still running (5 beats long)
      //   item:            ✓ (after)   ✓ (beside)   ✓ (beside) ── (not while lease writes hold)
      //
      // The worker item names the attempt: the checker keeps a task whose lease ended while
      // its owner's item is fresh and names it (shouldReclaim).
      this.s.log.warn(LOG_EVENTS.leaseExtensionFailed, { ...a.ref, error: err as Error });
      this.leaseWriteFailing = true;
      if (!item) await this.writeWorkerItem(now, a);
    } finally {
      await item;
    }
  }

  /** Upsert the worker item; a failure is logged (the next beat writes it again). */
  private async writeWorkerItem(now: number, a: TrackedAttempt | undefined): Promise<void> {
    await this.s.workers
      .beat(workerItem(this.workerId, this.startedAt, now, a))
      .catch((err: unknown) => this.s.log.warn(LOG_EVENTS.heartbeatFailed, { error: err as Error, workerId: this.workerId }));
  }

  /** The running attempt's part of a beat: lease and message visibility. */
  private async beatTask(a: TrackedAttempt, now: number): Promise<void> {
    const s = this.s;
    const progress = this.sampleProgress(a, now);
    const keeper = this.keeper;
    if (keeper) a.visibleUntil = Math.max(a.visibleUntil, keeper.visibleUntil());
    // claim ──┬── beat (< ½ interval later: the claim's lease is fresh, skip) ── beat (extend) ──
    // so consecutive lease writes are at most 1½ intervals apart, against a lease of 5.
    if (now - this.leaseWrittenAt >= s.timings.heartbeatMs / 2) {
      // Each try is cut well inside the lease (leaseWriteAttemptMs, aws/task-store.ts) and
      // retried by the client, so one black-holed write does not outlast a healthy lease.
      await s.tasks.heartbeat(a.ref, now, leaseMs(s.timings), progress);
      this.leaseWrittenAt = now;
      keeper?.leaseWritten(now);
    }
    const visibility = TASKS_QUEUE.visibilityTimeoutSeconds;
    if (visibilityDue(a.visibleUntil, now, s.timings.heartbeatMs)) {
      await s.taskQueue.setVisibility(a.receiptHandle, visibility);
      a.visibleUntil = now + visibility * 1000;
      keeper?.visibilityExtended(a.visibleUntil);
    }
  }
}
