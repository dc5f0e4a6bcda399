/**
 * A job's task attempts as the report and the modeled cost see them: the recorded
 * history of each task, plus the attempt still running, and (for tasks written before
 * history was recorded) one attempt rebuilt from the claim and commit times. Pure.
 */
import type { AttemptEntry, AttemptOutcome, JobRecord, TaskKind, TaskRecord } from './model.js';

/** A task record as read from the table: the commit time and lease are item attributes too. */
export type TaskRecordItem = TaskRecord & { readonly committedAt?: number; readonly leaseExpiresAt?: number };

export type AttemptState = AttemptOutcome | 'running';

export interface AttemptView extends Omit<AttemptEntry, 'outcome'> {
  readonly taskId: string;
  readonly kind: TaskKind;
  readonly outcome: AttemptState;
  /** Rebuilt from claimedAt/committedAt (no history recorded): times are approximate, no request counts. */
  readonly estimated?: boolean;
}

/** Every attempt of the job, ordered by start time. `now` ends the running ones. */
export function jobAttempts(job: JobRecord, tasks: readonly TaskRecordItem[], now: number): AttemptView[] {
  const out: AttemptView[] = [];
  const jobEnd = job.finishedAt ? Date.parse(job.finishedAt) : now;
  for (const t of tasks) {
    const base = { taskId: t.taskId, kind: t.kind };
    const history = t.history ?? [];
    for (const h of history) out.push({ ...h, ...base });
    const recorded = new Set(history.map((h) => h.attempt));
    if (t.claimedAt === undefined || !t.owner || recorded.has(t.attempt)) continue;
    if (t.status === 'RUNNING') {
      out.push({ ...base, attempt: t.attempt, worker: t.owner, startedAt: t.claimedAt, endedAt: Math.max(t.claimedAt, now), outcome: 'running' });
    } else if (history.length === 0) {
      // No history: the last attempt is all we know of (its claim, and its commit when committed).
      const outcome: AttemptOutcome = t.status === 'COMMITTED' ? 'committed' : t.status === 'FAILED' ? 'failed' : 'cancelled';
      const endedAt = t.committedAt ?? t.requeuedAt ?? jobEnd;
      out.push({
        ...base,
        attempt: t.attempt,
        worker: t.owner,
        startedAt: t.claimedAt,
        endedAt: Math.max(t.claimedAt, endedAt),
        outcome,
        ...(t.lastError && outcome !== 'committed' ? { reason: t.lastError } : {}),
        ...(t.kind === 'map' && t.split ? { inputBytes: t.split.end - t.split.start } : {}),
        ...(t.output ? { outputBytes: t.output.offsets[t.output.offsets.length - 1] ?? 0 } : {}),
        estimated: true,
      });
    }
  }
  return out.sort((a, b) => a.startedAt - b.startedAt || (a.taskId < b.taskId ? -1 : 1));
}

/** Seconds an attempt ran. */
export const attemptSeconds = (a: Pick<AttemptView, 'startedAt' | 'endedAt'>): number =>
  Math.max(0, a.endedAt - a.startedAt) / 1000;
