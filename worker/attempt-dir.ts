/**
 * Per-attempt working directories and the job's shipped files. Each attempt runs
 * in its own temp dir (the cwd of executables) holding copies of the job's files;
 * the files are downloaded once per job per worker.
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, copyFile, mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore } from '../aws/blob-store.js';
import type { TaskItem } from '../aws/task-store.js';
import { PoisonTaskError } from '../core/errors.js';
import type { AcceptedJob } from '../core/model.js';
import type { StepView } from '../core/steps.js';
import { parseS3Uri } from '../core/s3uri.js';
import { resumingObject } from './resume-range.js';
import { taskEnv } from './task-env.js';

/** The file name a shipped object gets in the working directory. */
function shippedName(uri: string): string {
  const name = path.posix.basename(parseS3Uri(uri).key);
  if (name === '' || name === '.' || name === '..') {
    throw new PoisonTaskError(`Shipped file ${uri} has no usable file name`, '');
  }
  return name;
}

export class FileCache {
  private readonly downloads = new Map<string, Promise<string>>();
  /** Jobs with a directory under the scratch dir (shipped files, attempt dirs). */
  private readonly jobs = new Set<string>();
  private lastCheck = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly blobs: BlobStore,
    private readonly scratchDir: string,
  ) {}

  /** Download a job's file once; returns its local path. */
  private fetch(jobId: string, uri: string): Promise<string> {
    const cacheKey = `${jobId}\n${uri}`;
    let p = this.downloads.get(cacheKey);
    if (!p) {
      p = (async () => {
        const loc = parseS3Uri(uri);
        const dir = path.join(this.scratchDir, jobId, 'files');
        await mkdir(dir, { recursive: true });
        const dest = path.join(dir, shippedName(uri));
        // Download to a private name, then rename: workers sharing a scratch dir (the local stack's
        // do) must never copy a file another worker is still writing (a truncated script runs "fine").
        const part = `${dest}.${process.pid}-${randomBytes(4).toString('hex')}.part`;
        try {
          // One GET (its answer tells the size, no HEAD first); a body reset mid-way is
          // re-requested from the byte reached (resume-range.ts).
          const body = resumingObject(
            () => this.blobs.getSized(loc.bucket, loc.key),
            (from, to) => this.blobs.getRange(loc.bucket, loc.key, from, to),
          );
          await pipeline(Readable.from(body), createWriteStream(part));
          await rename(part, dest);
        } catch (err) {
          await rm(part, { force: true });
          if ((err as Error).name === 'NoSuchKey') {
            throw new PoisonTaskError(`Shipped file ${uri} does not exist`, '', { cause: err });
          }
          throw err;
        }
        return dest;
      })();
      p.catch(() => this.downloads.delete(cacheKey));
      this.downloads.set(cacheKey, p);
    }
    return p;
  }

  /**
   * Start downloading a job's files now (the claim is still in flight); `prepare` then
   * waits for the same downloads. A failed download is dropped here and met again by
   * `prepare`, which reports it as before.
   */
  prefetch(job: AcceptedJob): void {
    this.jobs.add(job.jobId);
    for (const uri of job.manifest.files) this.fetch(job.jobId, uri).catch(() => {});
  }

  /** Make a fresh attempt dir holding the job's files (executable). */
  async prepare(job: AcceptedJob, task: TaskItem): Promise<string> {
    const dir = path.join(this.scratchDir, job.jobId, `${task.taskId}.${task.attempt}`);
    this.jobs.add(job.jobId);
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const uri of job.manifest.files) {
      const local = await this.fetch(job.jobId, uri);
      const dest = path.join(dir, shippedName(uri));
      await copyFile(local, dest);
      // Hadoop ships -file executables with their mode; S3 loses it, so every shipped file is executable.
      await chmod(dest, 0o755);
    }
    return dir;
  }

  /**
   * Remove an attempt dir made by `prepare` (never fails: a dir left behind goes with its
   * job's scratch dir, dropJob). A map's dir holds its local output file, tens of MiB whose
   * unlink takes the kernel ~5-100 ms: the task runner lets it run beside the next claim.
   */
  async removeAttemptDir(dir: string): Promise<void> {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }

  /** Forget a finished job's cached files and remove its scratch directory. */
  async dropJob(jobId: string): Promise<void> {
    this.jobs.delete(jobId);
    for (const key of [...this.downloads.keys()]) if (key.startsWith(`${jobId}\n`)) this.downloads.delete(key);
    await rm(path.join(this.scratchDir, jobId), { recursive: true, force: true });
  }

  /** The jobs this cache holds a directory for. */
  heldJobs(): string[] {
    return [...this.jobs];
  }

  /**
   * Drop every held job that has ended, so a long-lived worker does not fill its disk with
   * the files of past jobs. Looks at most once per `everyMs` (`ended` reads the job record).
   * Only ended jobs go: workers sharing a scratch dir (the local stack's) may still run
   * attempts of a live job there. Returns the jobs dropped.
   */
  async dropEnded(ended: (jobId: string) => Promise<boolean>, now: number, everyMs: number): Promise<string[]> {
    if (this.jobs.size === 0 || now - this.lastCheck < everyMs) return [];
    this.lastCheck = now;
    const dropped: string[] = [];
    for (const jobId of this.heldJobs()) {
      if (await ended(jobId)) {
        await this.dropJob(jobId);
        dropped.push(jobId);
      }
    }
    return dropped;
  }
}

/** Job and task facts for executables: Hadoop Streaming's task environment (./task-env.ts). */
export function stepEnv(job: AcceptedJob, task: TaskItem, step: StepView, outputUri: string): Record<string, string> {
  return taskEnv({
    jobId: job.jobId,
    createdAt: job.createdAt,
    kind: task.kind,
    index: task.index,
    attempt: task.attempt,
    taskId: task.taskId,
    numMaps: job.numMaps,
    numReduces: job.numReduces,
    jobconf: step.jobconf,
    cmdenv: job.manifest.env,
    outputUri,
    jobName: job.manifest.name,
    split: task.split,
  });
}
