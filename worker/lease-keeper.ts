/**
 * The lease keeper, main-thread side: a `worker_threads` thread (lease-keeper-thread.ts)
 * with its own SDK clients that extends the running attempt's lease, and keeps its task
 * message hidden, while user code blocks the worker's event loop (a synchronous reducer
 * over a huge group, a CPU-bound map call). Its event loop is its own, so its timer runs
 * when the heartbeat's cannot.
 *
 * What the two threads share is a few numbers in a SharedArrayBuffer (Atomics), readable
 * by the keeper while this thread is blocked: which attempt is tracked, when this
 * thread's beat timer last ran, when the lease and the message visibility were last
 * written. The attempt itself (ref, receipt handle) goes over by message when it is
 * tracked, before user code can run. The keeper acts only on what worker/heartbeat.ts
 * decides (keeperActions) and writes only through TaskStore.heartbeat,
 * Queue.setVisibility and WorkerStore.beat: the same writes as a beat, no new transition. A refused
 * write comes back as a message, read once this thread is free, and stops the attempt
 * as a refused beat does (Heartbeat.leaseRefused).
 */
import { Worker } from 'node:worker_threads';
import type { AttemptRef } from '../aws/task-store.js';
import { JobEndedError, LeaseLostError, type StaleStateError } from '../core/errors.js';
import { LOG_EVENTS } from '../core/log-events.js';
import type { TaskRecord, WorkerRecord } from '../core/model.js';
import type { Services } from '../services/context.js';
import { leaseMs } from '../services/task-lifecycle.js';
import type { KeeperLink, KeeperView, TrackedAttempt } from './heartbeat.js';

/** Slots of the shared array (BigInt64, epoch ms). GEN is the tracked attempt's number, 0 for none. */
export const SLOT = { gen: 0, mainBeatAt: 1, leaseWrittenAt: 2, visibleUntil: 3 } as const;
const SLOTS = 4;

/** What the thread is started with. */
export interface KeeperThreadData {
  readonly shared: SharedArrayBuffer;
  readonly endpoint: string | undefined;
  readonly region: string;
  readonly table: string;
  readonly tasksQueue: string;
  readonly heartbeatMs: number;
  readonly leaseMs: number;
}

/** Main thread → keeper. */
export type ToKeeper =
  | {
      readonly type: 'track';
      readonly gen: number;
      readonly ref: AttemptRef;
      readonly receiptHandle: string;
      readonly blockedLimitMs: number;
      /** The worker item naming the attempt, written (with the time) when the keeper steps in. */
      readonly item: WorkerRecord;
    }
  | { readonly type: 'untrack' }
  | { readonly type: 'stop' };

/** Keeper → main thread. */
export type FromKeeper =
  | { readonly type: 'ready'; readonly gen: 0 }
  | { readonly type: 'extended'; readonly gen: number; readonly at: number; readonly workerItem: boolean }
  | { readonly type: 'refused'; readonly gen: number; readonly message: string; readonly current: TaskRecord | undefined }
  | { readonly type: 'failed'; readonly gen: number; readonly what: 'lease' | 'visibility' | 'worker item'; readonly message: string };

/** The keeper's view of attempt `gen` from the shared array, or undefined when another (or none) is tracked. */
export function readView(shared: BigInt64Array, gen: number, blockedLimitMs: number): KeeperView | undefined {
  if (Number(Atomics.load(shared, SLOT.gen)) !== gen) return undefined;
  return {
    mainBeatAt: Number(Atomics.load(shared, SLOT.mainBeatAt)),
    leaseWrittenAt: Number(Atomics.load(shared, SLOT.leaseWrittenAt)),
    visibleUntil: Number(Atomics.load(shared, SLOT.visibleUntil)),
    blockedLimitMs,
  };
}

export const storeSlot = (shared: BigInt64Array, slot: number, ms: number): void => {
  Atomics.store(shared, slot, BigInt(Math.round(ms)));
};

export class LeaseKeeper implements KeeperLink {
  private readonly shared = new BigInt64Array(new SharedArrayBuffer(SLOTS * BigInt64Array.BYTES_PER_ELEMENT));
  private gen = 0;
  private current: { readonly gen: number; readonly a: TrackedAttempt; kept: boolean } | undefined;
  private thread: Worker | undefined;
  private started = false;
  private readiness: Promise<void> | undefined;
  private markReady: () => void = () => {};

  /** `onRefused` is Heartbeat.leaseRefused. No thread runs before the first attempt that needs one. */
  constructor(
    private readonly s: Services,
    private readonly onRefused: (a: TrackedAttempt, err: StaleStateError<TaskRecord>) => void,
  ) {}

  /**
   * Start the thread (~30 MiB of RSS: an isolate and its SDK clients), on the first
   * attempt that runs module code, so a worker running only executables never pays for it.
   * When it cannot start (its file is missing when the worker runs from sources) or dies,
   * the worker goes on without it, as before the keeper existed.
   */
  private start(): void {
    if (this.started) return;
    this.started = true;
    const s = this.s;
    // Bounded: a thread slower than a lease to come up is no reason to hold the attempt.
    this.readiness = new Promise<void>((resolve) => {
      this.markReady = resolve;
      setTimeout(resolve, leaseMs(s.timings)).unref();
    });
    const data: KeeperThreadData = {
      shared: this.shared.buffer as SharedArrayBuffer,
      endpoint: s.clients.endpoint,
      region: s.clients.region,
      table: s.names.table,
      tasksQueue: s.names.tasksQueue,
      heartbeatMs: s.timings.heartbeatMs,
      leaseMs: leaseMs(s.timings),
    };
    try {
      const thread = new Worker(new URL('./lease-keeper-thread.js', import.meta.url), { workerData: data });
      thread.on('message', (m: FromKeeper) => this.onMessage(m));
      thread.on('error', (err) => this.unavailable(err));
      thread.on('exit', (code) => {
        if (this.thread === thread) this.unavailable(new Error(`lease keeper thread exited with code ${code}`));
      });
      thread.unref(); // never what keeps the worker process alive (after 'message': a listener refs it)
      this.thread = thread;
    } catch (err) {
      this.unavailable(err);
    }
  }

  /**
   * Resolves when the thread is up (its SDK clients loaded), so the first attempt that
   * needs it does not block the worker before the keeper can act (loading takes ~0.5 s,
   * seconds on a loaded machine, against a lease of 5 beats); at once when none started.
   */
  ready(): Promise<void> {
    return this.readiness ?? Promise.resolve();
  }

  track(a: TrackedAttempt, now: number, item: WorkerRecord): void {
    if (a.blockedLimitMs !== undefined) this.start();
    const gen = ++this.gen;
    this.current = { gen, a, kept: false };
    storeSlot(this.shared, SLOT.mainBeatAt, now);
    storeSlot(this.shared, SLOT.leaseWrittenAt, now);
    storeSlot(this.shared, SLOT.visibleUntil, a.visibleUntil);
    storeSlot(this.shared, SLOT.gen, gen);
    // No limit given: the keeper keeps nothing (silence past 0 ms is past the limit).
    this.post({ type: 'track', gen, ref: a.ref, receiptHandle: a.receiptHandle, blockedLimitMs: a.blockedLimitMs ?? 0, item });
  }

  untrack(): void {
    this.current = undefined;
    storeSlot(this.shared, SLOT.gen, 0);
    this.post({ type: 'untrack' });
  }

  beat(now: number): void {
    storeSlot(this.shared, SLOT.mainBeatAt, now);
  }

  leaseWritten(at: number): void {
    storeSlot(this.shared, SLOT.leaseWrittenAt, at);
  }

  visibleUntil(): number {
    return Number(Atomics.load(this.shared, SLOT.visibleUntil));
  }

  visibilityExtended(until: number): void {
    storeSlot(this.shared, SLOT.visibleUntil, until);
  }

  /** Stop the thread (the worker is stopping). */
  async stop(): Promise<void> {
    const thread = this.thread;
    this.thread = undefined;
    if (!thread) return;
    this.post({ type: 'stop' }, thread);
    await thread.terminate();
  }

  private post(m: ToKeeper, thread = this.thread): void {
    thread?.postMessage(m);
  }

  private onMessage(m: FromKeeper): void {
    if (m.type === 'ready') return this.markReady();
    const c = this.current;
    if (!c || c.gen !== m.gen) return; // about an attempt that has ended since
    if (m.type === 'extended') {
      // workerItem: the worker item naming the attempt went out beside this lease write.
      if (!c.kept) this.s.log.info(LOG_EVENTS.leaseKeptWhileBlocked, { ...c.a.ref, at: m.at, workerItem: m.workerItem });
      c.kept = true;
    } else if (m.type === 'refused') {
      // The same two refusals as a beat's (aws/task-conflicts.ts leaseExtensionRefused).
      const Refusal = m.current?.jobEnded !== undefined ? JobEndedError : LeaseLostError;
      this.onRefused(c.a, new Refusal<TaskRecord>(m.message, m.current, { context: { ...c.a.ref } }));
    } else {
      this.s.log.warn(LOG_EVENTS.leaseKeeperWriteFailed, { ...c.a.ref, what: m.what, error: m.message });
    }
  }

  private unavailable(err: unknown): void {
    this.thread = undefined;
    this.markReady();
    this.s.log.warn(LOG_EVENTS.leaseKeeperUnavailable, { error: err as Error });
  }
}
