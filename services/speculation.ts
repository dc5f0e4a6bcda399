/**
 * The checker's speculation step: post backup attempts of stragglers (the rule is
 * core/speculation.ts) and take back backups whose worker died. The checker decides, not
 * an idle worker: it already reads every active task each sweep, it holds the guard that
 * makes overlapping runs act once, and it sees the whole phase and fleet, where a worker
 * would need the same reads on every idle poll. The post itself is one conditional write
 * (`backupAttempt` set only if absent), so a task gets one backup even without the guard.
 *
 * It reads nothing the sweep has not read already, besides the worker items: the running
 * attempts come from the active-task listing, the committed ones only as the sums their
 * commits keep on the job record (core/speculation.ts `committedStats`). Its work per
 * sweep grows with the running tasks and the workers, never with a phase's size M.
 */
import type { JobRecord, TaskKind, TaskRecord, WorkerRecord } from '../core/model.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { isErrorNamed } from '../core/errors.js';
import {
  chooseBackups,
  committedStats,
  DEFAULT_SPECULATION,
  type FleetSnapshot,
  type PhaseSnapshot,
  type SpeculationPolicy,
  jobSpeculates,
} from '../core/speculation.js';
import type { Timings } from '../core/config.js';
import type { AttemptRef } from '../aws/task-store.js';
import type { Services } from './context.js';
import { leaseHolders, leaseMs, sendTaskMessages, shouldReclaim, taskMessageBody, workerLiveness } from './task-lifecycle.js';

/**
 * The deployment's policy: an attempt must have run three leases (30 s; 6 s with the
 * bench's 400 ms beats), and its progress is stalled after a lease with no byte (10 s; 2 s):
 * a reading attempt reports bytes on every beat, a lease is five of them.
 */
export function speculationPolicy(t: Timings): SpeculationPolicy {
  return { ...DEFAULT_SPECULATION, minRunMs: 3 * leaseMs(t), stalledMs: leaseMs(t) };
}

/** A backup launched and not ended. */
export function backupInFlight(t: TaskRecord): boolean {
  return t.backupAttempt !== undefined && t.backupEndedAt === undefined && (t.status === 'RUNNING' || t.status === 'PENDING');
}

/** The running attempts of the job's current step and `kind`, from the active-task listing. */
export function runningOf(job: JobRecord, kind: TaskKind, active: readonly TaskRecord[]): TaskRecord[] {
  const step = job.step ?? 0;
  return active.filter((t) => t.jobId === job.jobId && t.kind === kind && (t.step ?? 0) === step && t.status === 'RUNNING');
}

/**
 * The running phase's view the policy needs: the running attempts (`runningOf`, from the
 * active index), the committed ones as the job record's sums, and the pending count as
 * what is neither: total − committed − running (a requeued task is active but PENDING).
 */
export function phaseSnapshot(job: JobRecord, kind: TaskKind, running: readonly TaskRecord[]): PhaseSnapshot {
  const [total, done] = kind === 'map' ? [job.numMaps, job.mapsCommitted] : [job.numReduces, job.reducesCommitted];
  return {
    enabled: jobSpeculates(job.manifest, kind),
    pendingTasks: Math.max(0, total - done - running.length),
    running: running.map((t) => ({
        taskId: t.taskId,
        startedAt: t.claimedAt ?? 0,
        bytesDone: t.progress ?? 0,
        bytesTotal: t.progressTotal ?? (t.split ? t.split.end - t.split.start : 0),
        ...(t.progressAt !== undefined ? { progressAt: t.progressAt } : {}),
        hasBackup: t.backupAttempt !== undefined,
      })),
    committed: committedStats(job, kind),
  };
}

/**
 * Live and idle workers: from their heartbeat items, and from the leases of the active
 * tasks, which prove a busy worker alive while its item is not rewritten (task-lifecycle.ts
 * `workerLiveness`).
 */
export function fleetSnapshot(workers: readonly WorkerRecord[], active: readonly TaskRecord[], now: number, t: Timings): FleetSnapshot {
  const holders = leaseHolders(active, now);
  const states = workers.map((w) => workerLiveness(w, holders, now, t));
  return {
    liveWorkers: states.filter((x) => x.live).length,
    idleWorkers: states.filter((x) => x.idle).length,
    backupsInFlight: active.filter(backupInFlight).length,
  };
}

/** The phase of a job that may get backups now, if any (cheap test on the job record). */
function phaseNearEnd(job: JobRecord, active: readonly TaskRecord[]): TaskKind | undefined {
  if (job.status !== 'RUNNING') return undefined;
  const kind: TaskKind | undefined = job.phase === 'MAP' ? 'map' : job.phase === 'REDUCE' && job.reduceEnqueuedAt ? 'reduce' : undefined;
  if (!kind || !jobSpeculates(job.manifest, kind)) return undefined;
  const step = job.step ?? 0;
  const mine = active.filter((t) => t.jobId === job.jobId && t.kind === kind && (t.step ?? 0) === step);
  const [total, done] = kind === 'map' ? [job.numMaps, job.mapsCommitted] : [job.numReduces, job.reducesCommitted];
  // No task left that nobody runs: every task is committed or running.
  const running = mine.filter((t) => t.status === 'RUNNING').length;
  return running > 0 && done + running >= total && mine.every((t) => t.status === 'RUNNING') ? kind : undefined;
}

/**
 * One speculation step of a sweep: take back dead backups, then post backups of the
 * stragglers of phases near their end. Returns the `jobId/taskId` of the backups posted.
 */
export async function speculate(s: Services, active: readonly TaskRecord[], jobs: readonly JobRecord[], now: number): Promise<string[]> {
  await reclaimDeadBackups(s, active, now);
  await resendLostBackups(s, active, now);
  const candidates = jobs.map((j) => ({ job: j, kind: phaseNearEnd(j, active) })).filter((c) => c.kind !== undefined);
  if (candidates.length === 0) return [];
  const policy = speculationPolicy(s.timings);
  let fleet = fleetSnapshot(await s.workers.list(), active, now, s.timings);
  const posted: string[] = [];
  for (const { job, kind } of candidates) {
    // The phase's running attempts as the sweep listed them: no read of the phase's tasks.
    const tasks = runningOf(job, kind!, active);
    for (const taskId of chooseBackups(phaseSnapshot(job, kind!, tasks), fleet, now, policy)) {
      const task = tasks.find((t) => t.taskId === taskId)!;
      try {
        const attempt = await s.tasks.backups.post(task, now);
        await s.taskQueue.sendAll([taskMessageBody(job.jobId, taskId, true)]);
        posted.push(`${job.jobId}/${taskId}`);
        fleet = { ...fleet, idleWorkers: fleet.idleWorkers - 1, backupsInFlight: fleet.backupsInFlight + 1 };
        s.log.info(LOG_EVENTS.backupPosted, { jobId: job.jobId, taskId, attempt, primaryOwner: task.owner, progress: task.progress, progressAt: task.progressAt });
      } catch (err) {
        // The task moved (committed, reclaimed) or another checker posted it first.
        if (!isErrorNamed(err, 'StaleStateError')) throw err;
      }
    }
  }
  return posted;
}

/** The backup's lease as the primary's reclaim rule reads a lease. */
function backupLease(t: TaskRecord) {
  return {
    status: 'RUNNING' as const,
    leaseExpiresAt: t.backupLeaseExpiresAt,
    owner: t.backupOwner,
    jobId: t.jobId,
    taskId: t.taskId,
    attempt: t.backupAttempt ?? 0,
  };
}

/** A backup posted longer than `requeueGraceMs` ago and still unclaimed: its message may be lost. */
export function backupMessageOverdue(t: TaskRecord, now: number, timings: Timings): boolean {
  return (
    t.status === 'RUNNING' &&
    t.backupAttempt !== undefined &&
    t.backupClaimedAt === undefined &&
    t.backupEndedAt === undefined &&
    t.backupPostedAt !== undefined &&
    now - t.backupPostedAt > timings.requeueGraceMs
  );
}

/**
 * A posted backup nobody claimed within `requeueGraceMs` (the bound the checker gives a
 * requeued primary): its message was lost or is stuck, so it is sent again, by the one
 * checker whose conditional write moves `backupPostedAt` (BackupStore.repost). The task
 * keeps one `backupAttempt` and the claim holds once, so at most one backup ever runs.
 */
async function resendLostBackups(s: Services, active: readonly TaskRecord[], now: number): Promise<void> {
  for (const t of active.filter((x) => backupMessageOverdue(x, now, s.timings))) {
    try {
      await s.tasks.backups.repost(t, now);
    } catch (err) {
      // Claimed, reposted by another checker, or the task moved on: nothing to send.
      if (!isErrorNamed(err, 'StaleStateError')) throw err;
      continue;
    }
    await s.taskQueue.sendAll([taskMessageBody(t.jobId, t.taskId, true)]);
    s.log.warn(LOG_EVENTS.backupResent, { jobId: t.jobId, taskId: t.taskId, attempt: t.backupAttempt, postedAt: t.backupPostedAt });
  }
}

/**
 * A backup whose worker stopped extending its lease ends as `reclaimed` (it costs the task
 * no attempt); when the primary is gone too, the task is sent again.
 */
async function reclaimDeadBackups(s: Services, active: readonly TaskRecord[], now: number): Promise<void> {
  const expired = active.filter((t) => t.backupOwner !== undefined && (t.backupLeaseExpiresAt ?? 0) < now);
  if (expired.length === 0) return;
  const owners = await s.workers.get(expired.map((t) => t.backupOwner!));
  for (const t of expired) {
    if (!shouldReclaim(backupLease(t), owners.get(t.backupOwner!), now, s.timings)) continue;
    const ref: AttemptRef = { jobId: t.jobId, taskId: t.taskId, owner: t.backupOwner!, attempt: t.backupAttempt!, startedAt: t.backupClaimedAt ?? now, backup: true };
    try {
      const reason = `worker ${ref.owner} stopped extending the lease of backup attempt ${ref.attempt}`;
      const status = await s.tasks.backups.end(ref, now, 'reclaimed', { reason }, true);
      if (status === 'PENDING') await sendTaskMessages(s.taskQueue, t.jobId, [t.taskId]);
      s.log.warn(LOG_EVENTS.deadBackupTakenBack, { ...ref });
    } catch (err) {
      if (!isErrorNamed(err, 'StaleStateError') && !isErrorNamed(err, 'LeaseLostError')) throw err;
    }
  }
}
