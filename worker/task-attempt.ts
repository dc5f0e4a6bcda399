/**
 * What the task runner's steps share: the runner's dependencies, a claimed attempt, and
 * the attempt's request counts (for its history entry).
 */
import type { MapOutputRef } from '../aws/items.js';
import type { ReceivedMessage } from '../aws/queue.js';
import type { RequestCounts } from '../aws/request-counter.js';
import type { AttemptDetails, AttemptRef } from '../aws/task-store.js';
import type { WorkerSettings } from '../core/config.js';
import type { StaleStateError } from '../core/errors.js';
import type { AcceptedJob, TaskRecord } from '../core/model.js';
import type { Services } from '../services/context.js';
import type { ProgressMeter } from './attempt.js';
import type { FileCache } from './attempt-dir.js';
import type { Heartbeat } from './heartbeat.js';

/** The reason an attempt is aborted because the worker is shutting down. */
export class ShutdownError extends Error {
  override readonly name = 'ShutdownError';
}

export interface RunnerDeps {
  readonly s: Services;
  readonly workerId: string;
  readonly heartbeat: Heartbeat;
  readonly files: FileCache;
  readonly settings: WorkerSettings;
  /** Aborted on SIGTERM: the running attempt is released, not failed. */
  readonly shutdown: AbortSignal;
  /**
   * Called as the attempt's commit is sent, with a promise of what follows it (the message
   * delete, the job read and the job's next phase; it resolves at once when the commit
   * fails): the worker loop starts its next receive and lets its next task run while that
   * finishes. Without it the runner awaits it.
   */
  readonly committed?: (afterCommit: Promise<void>) => void;
}

/** A claimed attempt, from its claim to its settlement. */
export interface Attempt {
  readonly msg: ReceivedMessage;
  readonly job: AcceptedJob;
  readonly task: TaskRecord;
  readonly ref: AttemptRef;
  readonly abort: AbortController;
  /** Bytes gone through, written with the lease by the heartbeat. */
  readonly progress: ProgressMeter;
  /** Request counts at the claim (undefined when this process does not count). */
  readonly requestsAtClaim: RequestCounts | undefined;
  /** A reduce task's map listing, started with the claim (worker/attempt.ts `mapListing`). */
  readonly mapListing?: Promise<readonly MapOutputRef[] | undefined>;
}

/**
 * The attempt's requests since its claim, when this process counts them, plus the write
 * that ends it (`ending`: it carries the entry, so it cannot count itself).
 */
export function requestsOf(d: RunnerDeps, a: Attempt, ending: string): AttemptDetails {
  return requestsSince(d.s, a.requestsAtClaim, ending);
}

export function requestsSince(s: Services, before: RequestCounts | undefined, ending: string): AttemptDetails {
  const counter = s.clients.requests;
  if (!counter || !before) return {};
  const requests = { ...counter.since(before) };
  requests[ending] = (requests[ending] ?? 0) + 1;
  return { requests };
}

/** A refused owner transition that left the task as this attempt's: only its lease ran out. */
export function stillOwned(err: unknown, ref: AttemptRef): boolean {
  const current = (err as StaleStateError<TaskRecord>).current;
  return current?.status === 'RUNNING' && current.owner === ref.owner && current.attempt === ref.attempt;
}
