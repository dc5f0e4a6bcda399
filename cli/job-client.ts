/**
 * Client-side job operations shared by the commands: check S3 locations before
 * uploading, upload a prepared job, wait for it with progress, cancel it,
 * download a local output. Imported lazily by the commands (it loads the AWS SDK).
 */
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BlobStore } from '../aws/blob-store.js';
import { explainEnvironmentError } from '../aws/clients.js';
import { JobStore } from '../aws/job-store.js';
import { TaskStore } from '../aws/task-store.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { manifestKey } from '../core/layout.js';
import type { JobRecord, TaskRecord } from '../core/model.js';
import { asPrefix, parseS3Uri } from '../core/s3uri.js';
import { cancelJob as cancelStoredJob } from '../services/cancel.js';
import { forEachLimit } from '../core/concurrency.js';
import { checkSubmission } from '../services/submission.js';
import type { Io } from './io.js';
import type { PreparedJob } from './job-flags.js';
import { nextPollMs } from './poll-schedule.js';
import { createProgressReporter, progressFromTasks, type ProgressSnapshot } from './progress.js';
import type { OpenedTarget, Target } from './target.js';

/** Refusals pass through; anything else (endpoint down, no credentials) is explained as such. */
function s3UsageError(err: unknown): unknown {
  return err instanceof UsageError ? err : explainEnvironmentError(err, undefined);
}

/**
 * Before anything is uploaded, the submission checks the coordinator applies too
 * (`services/submission.ts`): output outside the framework's areas and outside the
 * input, input present and not empty, output free unless --overwrite. This way a
 * mistake costs no job record; a manifest uploaded by other means meets the same checks.
 */
export async function preflight(t: Target, job: PreparedJob): Promise<void> {
  try {
    await checkSubmission(new BlobStore(t.clients), t.names.bucket, job.jobId, job.manifest, {
      // Local inputs are checked locally and uploaded by us.
      skipInputs: job.uploadedInputs,
      inputLimit: 1000,
      // Only a local stack reads file:// inputs (the coordinator checks this again).
      localFiles: t.kind === 'local',
    });
  } catch (err) {
    throw s3UsageError(err);
  }
}

/**
 * The preflight beside the stack's own check (`openTarget`): their requests go out together,
 * one round trip less before the job is uploaded, and the stack's problem is still reported
 * first, as when the preflight waited for it. Returns the checked target.
 */
export async function preflightBeside(opened: OpenedTarget, job: PreparedJob): Promise<Target> {
  const checking = preflight(opened.target, job);
  checking.catch(() => {}); // awaited below, after the stack's check
  await opened.checked;
  await checking;
  return opened.target;
}

/** Upload inputs and files, then the manifest: the manifest's upload starts the job. */
export async function uploadJob(t: Target, job: PreparedJob): Promise<void> {
  const blobs = new BlobStore(t.clients);
  await forEachLimit(job.uploads, 8, async ([key, local]) => {
    await blobs.putFile(t.names.bucket, key, local);
  });
  await blobs.putBytes(t.names.bucket, manifestKey(job.jobId), JSON.stringify(job.manifest, null, 2), 'application/json');
}

/** Cancel a job on a target (see services/cancel.ts); returns the job as it was. */
export function cancelJob(t: Target, jobId: string, reason = 'cancelled by user'): Promise<JobRecord> {
  return cancelStoredJob(
    { jobs: new JobStore(t.clients, t.names.table), tasks: new TaskStore(t.clients, t.names.table) },
    jobId,
    { reason, where: t.description },
  );
}

export interface WaitOptions {
  readonly json: boolean;
  /** A fixed interval between reads of the job record; by default it follows cli/poll-schedule.ts. */
  readonly pollMs?: number;
  /** Give up when no coordinator has picked the job up after this long. */
  readonly appearTimeoutMs?: number;
  /** Ctrl-C cancels the job (then waits for it to end); a second Ctrl-C exits at once. */
  readonly cancelOnInterrupt?: boolean;
  /**
   * Called once, with the first record read that shows the job ended, before the wait reads
   * its tasks (and, when attempts still run, waits for them): work that needs only the ended
   * record, such as the output's download, starts there instead of after the wait.
   */
  readonly onEnded?: (job: JobRecord) => void;
}

export interface WaitResult {
  readonly job: JobRecord;
  /** The job's task records as last read (for its cost: no second query). */
  readonly tasks: readonly TaskRecord[];
  /** True when the user pressed Ctrl-C and the job was cancelled for that. */
  readonly interrupted: boolean;
}

/** Progress figures from the job and its task records. */
export async function snapshot(t: Target, job: JobRecord, startedAt: number): Promise<ProgressSnapshot> {
  return (await readProgress(t, job, startedAt)).progress;
}

async function readProgress(t: Target, job: JobRecord, startedAt: number): Promise<{ progress: ProgressSnapshot; tasks: TaskRecord[] }> {
  const tasks = await new TaskStore(t.clients, t.names.table).list(job.jobId);
  return { progress: progressFromTasks(job, tasks, startedAt, Date.now()), tasks };
}

/** How long to wait for the running attempts of a job that ended (cancelled, failed) to stop. */
const STOP_WAIT_MS = 15_000;

/** Poll until the job ends (and its running attempts stopped), reporting progress; returns the final record. */
export async function waitForJob(t: Target, jobId: string, io: Io, o: WaitOptions): Promise<WaitResult> {
  const jobs = new JobStore(t.clients, t.names.table);
  const reporter = createProgressReporter(io, o.json);
  const started = Date.now();
  let lastDetail = 0;
  // The most map attempts a task listing saw running at once in the current step: the pace of
  // the poll schedule (cli/poll-schedule.ts). Its listings are the progress display's.
  let mapsRunningMax = 0;
  let step: number | undefined;
  let interrupted = false;
  let endedAt: number | undefined;
  const onInterrupt = () => {
    if (interrupted) {
      reporter.stop();
      io.err('Interrupted again: exiting without waiting.\n');
      process.exit(130);
    }
    interrupted = true;
    io.err(`\nCancelling job ${jobId} (Ctrl-C again to exit at once)...\n`);
    cancelJob(t, jobId, 'cancelled by user (Ctrl-C)').catch(() => {});
  };
  if (o.cancelOnInterrupt) process.on('SIGINT', onInterrupt);
  try {
    for (;;) {
      const job = await jobs.get(jobId);
      if (job && job.step !== step) {
        step = job.step;
        mapsRunningMax = 0;
      }
      if (!job) {
        if (Date.now() - started > (o.appearTimeoutMs ?? 30_000)) {
          throw new EnvironmentError(
            `Job ${jobId} was uploaded but no coordinator picked it up on ${t.description}. ` +
              'Is the stack running (`mapreduce local up`, or the deployed coordinator)?',
          );
        }
      } else if (job.status === 'SUCCEEDED' || job.status === 'FAILED' || job.status === 'CANCELLED') {
        if (endedAt === undefined) o.onEnded?.(job);
        const { progress: last, tasks } = await readProgress(t, job, started);
        // Running attempts of an ended job stop at their next lease extension (refused): wait a little for them.
        const stillRunning = last.map.running + last.reduce.running > 0;
        endedAt ??= Date.now();
        if (!stillRunning || Date.now() - endedAt > STOP_WAIT_MS) {
          reporter.update(last);
          return { job, tasks, interrupted };
        }
      } else if (Date.now() - lastDetail >= 1000) {
        // Task listing costs a query; once a second is plenty for a progress display, and
        // none is needed when the display would not change (plain lines every few seconds).
        lastDetail = Date.now();
        if (reporter.wouldShow?.(job.status, job.phase) ?? true) {
          const progress = await snapshot(t, job, started);
          mapsRunningMax = Math.max(mapsRunningMax, progress.map.running);
          reporter.update(progress);
        }
      }
      await new Promise((r) => setTimeout(r, o.pollMs ?? nextPollMs(job, mapsRunningMax)));
    }
  } finally {
    if (o.cancelOnInterrupt) process.off('SIGINT', onInterrupt);
    reporter.stop();
  }
}

const OUTPUT_FILE = /(^|\/)(part-\d+|_SUCCESS)$/;

/**
 * Download `part-*` and `_SUCCESS` of a finished job into a local directory. Part
 * files of an earlier output there (--overwrite) are replaced, stale ones removed, so
 * the directory never mixes two jobs' parts; other files are left alone.
 */
export async function downloadOutput(t: Target, job: JobRecord, dir: string): Promise<string[]> {
  if (!job.manifest) return []; // refused at submission: no output
  const out = asPrefix(parseS3Uri(job.manifest.output));
  const blobs = new BlobStore(t.clients);
  const objects = (await blobs.list(out.bucket, out.key)).filter((o) => OUTPUT_FILE.test(o.key));
  await mkdir(dir, { recursive: true });
  const fresh = new Set(objects.map((o) => path.basename(o.key)));
  for (const old of await readdir(dir)) {
    if (OUTPUT_FILE.test(old) && !fresh.has(old)) await rm(path.join(dir, old), { force: true });
  }
  await forEachLimit(objects, 8, async (o) => {
    await pipeline(await blobs.getObject(o.bucket, o.key), createWriteStream(path.join(dir, path.basename(o.key))));
  });
  return objects.map((o) => path.basename(o.key));
}
