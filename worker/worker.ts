/**
 * The worker loop: long-poll the task queue, one task at a time, heartbeat all
 * along. `stop()` (SIGTERM) stops taking tasks and releases the running one so
 * another worker can take it at once. With a recycle policy (core/worker-recycle.ts) the
 * loop also ends by itself at a task boundary, before it receives another message, or
 * when an aged process receives a reduce's message, which it gives back unclaimed, so
 * that its launcher replaces the process (`recycled` says so).
 */
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import type { WorkerSettings } from '../core/config.js';
import type { Services } from '../services/context.js';
import { FileCache } from './attempt-dir.js';
import { EndedJobSweep } from './ended-jobs.js';
import { callContext, Heartbeat } from './heartbeat.js';
import { workerHeap } from './heap-keeper.js';
import { LeaseKeeper } from './lease-keeper.js';
import { NextReceive } from './next-receive.js';
import { handleTaskMessage } from './task-runner.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { type RecyclePolicy, type RecycleReason, recycleBeforeTask, recycleReason } from '../core/worker-recycle.js';
import { isMapTaskId } from '../core/steps.js';
import { parseTaskMessage } from '../services/task-lifecycle.js';

export function newWorkerId(): string {
  return `${os.hostname().slice(0, 40)}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export class Worker {
  readonly workerId: string;
  private readonly shutdown = new AbortController();
  private readonly heartbeat: Heartbeat;
  /** Keeps the lease while user code blocks this thread (undefined when turned off). */
  private readonly keeper: LeaseKeeper | undefined;
  private readonly files: FileCache;
  private readonly sweep: EndedJobSweep;
  private loop: Promise<void> | undefined;
  /** Tasks this process ran (ended, whatever their outcome), and its RSS after the first. */
  private tasks = 0;
  private baselineRss: number | undefined;
  private recycle: RecycleReason | undefined;

  /**
   * @param recyclePolicy when to end the loop at a task boundary to be replaced (the
   *   `mapreduce worker` process passes core/worker-recycle.ts's from its environment);
   *   undefined: never (a worker run in-process by a test).
   */
  constructor(
    private readonly s: Services,
    private readonly settings: WorkerSettings,
    workerId: string = newWorkerId(),
    private readonly recyclePolicy?: RecyclePolicy,
    private readonly rss: () => number = () => process.memoryUsage.rss(),
  ) {
    this.workerId = workerId;
    this.keeper = settings.leaseKeeper === false ? undefined : new LeaseKeeper(s, (a, err) => this.heartbeat.leaseRefused(a, err));
    this.heartbeat = new Heartbeat(s, workerId, this.keeper);
    this.files = new FileCache(s.blobs, settings.scratchDir);
    this.sweep = new EndedJobSweep(s.timings, (everyMs) => this.dropEndedJobs(everyMs));
  }

  /** Start polling; resolves when the worker has stopped. */
  run(): Promise<void> {
    this.loop ??= this.poll();
    return this.loop;
  }

  /** Graceful stop: no new tasks, release the running one, remove the heartbeat item. */
  async stop(): Promise<void> {
    this.shutdown.abort();
    await this.loop;
  }

  /** True when the loop ended to have this process replaced (the policy fired), not on stop(). */
  get recycled(): boolean {
    return this.recycle !== undefined && !this.shutdown.signal.aborted;
  }

  /**
   * Whether the task that is ending (`ended` tasks so far, it included) is this process's
   * last; latched once true. Asked at a commit, before the next receive would start early,
   * and at the task boundary when no receive was started.
   */
  private recycleDue(ended: number): boolean {
    if (this.recycle !== undefined) return true;
    if (!this.recyclePolicy) return false;
    const reason = recycleReason({ tasks: ended, rssBytes: this.rss(), baselineRssBytes: this.baselineRss }, this.recyclePolicy);
    if (reason === undefined) return false;
    this.recycle = reason;
    return true;
  }

  /**
   * Whether this process should give `msg` back and be replaced rather than claim it: a
   * reduce after many tasks (core/worker-recycle.ts `recycleBeforeTask`); latched when true.
   */
  private recycleBefore(msg: { body: string; receiveCount: number }): boolean {
    if (!this.recyclePolicy) return false;
    // Asked as if the message were a reduce's first, so that a normal job's worker (fewer
    // tasks than the threshold) does not even parse the message here.
    if (!recycleBeforeTask({ tasks: this.tasks, reduce: true, receiveCount: msg.receiveCount }, this.recyclePolicy)) return false;
    const parsed = parseTaskMessage(msg.body);
    if (!parsed || isMapTaskId(parsed.taskId)) return false;
    this.recycle = 'before-reduce';
    return true;
  }

  /** Remove the scratch files of jobs that ended, looking at most once per `everyMs` (worker/ended-jobs.ts). */
  private async dropEndedJobs(everyMs: number): Promise<void> {
    const s = this.s;
    try {
      // One batch read of every held job (when the check is due), not one read per job.
      let ended: Promise<Set<string>> | undefined;
      const dropped = await this.files.dropEnded(async (jobId) => {
        ended ??= s.jobStatuses.endedAmong(this.files.heldJobs());
        return (await ended).has(jobId);
      }, s.now(), everyMs);
      if (dropped.length > 0) s.log.info(LOG_EVENTS.endedJobFilesRemoved, { jobs: dropped });
    } catch (err) {
      s.log.warn(LOG_EVENTS.endedJobFilesRemovalFailed, { error: err as Error });
    }
  }

  private async poll(): Promise<void> {
    const s = this.s;
    this.heartbeat.start();
    s.log.info(LOG_EVENTS.workerStarted, { workerId: this.workerId });
    const next = new NextReceive(() => s.taskQueue.receiveOne(s.timings.pollWaitSeconds));
    // After a commit the next long poll starts at once (outside the task's call context),
    // and the next task need not wait for the message delete and the phase change.
    const afterCommits = new Set<Promise<void>>();
    const committed = (afterCommit: Promise<void>) => {
      // A worker about to recycle starts no receive: it would have to give the message back.
      if (!this.shutdown.signal.aborted && !this.recycleDue(this.tasks + 1)) callContext.exit(() => next.start());
      const settled: Promise<void> = afterCommit
        .catch((err: unknown) => s.log.warn(LOG_EVENTS.afterCommitFailed, { error: err as Error }))
        .finally(() => afterCommits.delete(settled));
      afterCommits.add(settled);
    };
    try {
      while (!this.shutdown.signal.aborted) {
        let msg: Awaited<ReturnType<typeof s.taskQueue.receiveOne>>;
        try {
          // Not aborted on stop: SQS may already have handed a message to a poll the
          // client gives up on, and that message would stay hidden for the whole
          // visibility timeout. The poll returns within pollWaitSeconds; what it brought
          // after the stop began is made visible again at once.
          msg = await next.take();
        } catch (err) {
          if (this.shutdown.signal.aborted) break;
          s.log.warn(LOG_EVENTS.pollingFailed, { error: err as Error });
          await new Promise((r) => setTimeout(r, 1000));
          continue;
        }
        if (msg && this.shutdown.signal.aborted) {
          await s.taskQueue.setVisibility(msg.receiptHandle, 0).catch(() => {});
          s.log.info(LOG_EVENTS.messageReleasedOnStop, { workerId: this.workerId });
          break;
        }
        if (msg && this.recycleBefore(msg)) {
          // Given back before any claim: the task's state is untouched, and another worker
          // (or this one's replacement) receives the message at once.
          await s.taskQueue.setVisibility(msg.receiptHandle, 0).catch(() => {});
          s.log.info(LOG_EVENTS.workerRecycling, { workerId: this.workerId, reason: this.recycle, tasks: this.tasks, rssMiB: Math.round(this.rss() / 2 ** 20), baselineRssMiB: Math.round((this.baselineRss ?? 0) / 2 ** 20) });
          break;
        }
        if (!msg) {
          workerHeap.idle();
          await this.sweep.idle();
          continue;
        }
        try {
          await handleTaskMessage(
            {
              s,
              workerId: this.workerId,
              heartbeat: this.heartbeat,
              files: this.files,
              settings: this.settings,
              shutdown: this.shutdown.signal,
              committed,
            },
            msg,
          );
        } catch (err) {
          // The message stays in the queue: it is retried and, if it keeps failing, moved to the DLQ.
          s.log.error(LOG_EVENTS.taskMessageFailed, { error: err as Error });
        }
        workerHeap.taskEnded();
        this.tasks++;
        if (this.tasks === 1) this.baselineRss = this.rss();
        this.sweep.taskBoundary();
        // Not while a receive started at the commit is in flight: that message is taken and
        // run, and the policy is asked again at the next boundary.
        if (!next.started && this.recycleDue(this.tasks)) {
          s.log.info(LOG_EVENTS.workerRecycling, { workerId: this.workerId, reason: this.recycle, tasks: this.tasks, rssMiB: Math.round(this.rss() / 2 ** 20), baselineRssMiB: Math.round((this.baselineRss ?? 0) / 2 ** 20) });
          break;
        }
      }
    } finally {
      await Promise.all([...afterCommits, this.sweep.settled()]);
      if (await next.release((m) => s.taskQueue.setVisibility(m.receiptHandle, 0))) {
        s.log.info(LOG_EVENTS.messageReleasedOnStop, { workerId: this.workerId });
      }
      await this.heartbeat.stop();
      await this.keeper?.stop();
      await s.workers.remove(this.workerId).catch(() => {});
      s.log.info(LOG_EVENTS.workerStopped, { workerId: this.workerId, heapCollections: workerHeap.stats.collections, heapCollectionCpuMs: Math.round(workerHeap.stats.cpuMs) });
    }
  }
}
