/**
 * Client-side job operations shared by `run` and `submit`: upload a prepared job,
 * wait for it with progress, download a local output, summarise counters.
 */
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { BlobStore } from '../aws/blob-store.js';
import { JobStore } from '../aws/job-store.js';
import { TaskStore } from '../aws/task-store.js';
import { EnvironmentError } from '../core/errors.js';
import { manifestKey } from '../core/layout.js';
import type { JobRecord } from '../core/model.js';
import { asPrefix, parseS3Uri } from '../core/s3uri.js';
import { forEachLimit } from '../services/context.js';
import type { Io } from './io.js';
import type { PreparedJob } from './job-spec.js';
import { createProgressReporter, type ProgressSnapshot } from './progress.js';
import type { Target } from './target.js';

/** Upload inputs and files, then the manifest: the manifest's upload starts the job. */
export async function uploadJob(t: Target, job: PreparedJob): Promise<void> {
  const blobs = new BlobStore(t.clients);
  await forEachLimit(job.uploads, 8, async ([key, local]) => {
    await blobs.putFile(t.names.bucket, key, local);
  });
  await blobs.putBytes(t.names.bucket, manifestKey(job.jobId), JSON.stringify(job.manifest, null, 2), 'application/json');
}

export interface WaitOptions {
  readonly json: boolean;
  readonly pollMs?: number;
  /** Give up when no coordinator has picked the job up after this long. */
  readonly appearTimeoutMs?: number;
}

/** Progress figures from the job and its task records. */
export async function snapshot(t: Target, job: JobRecord, startedAt: number): Promise<ProgressSnapshot> {
  const tasks = await new TaskStore(t.clients, t.names.table).list(job.jobId);
  const count = (kind: 'map' | 'reduce', status: string) =>
    tasks.filter((x) => x.kind === kind && x.status === status).length;
  const mapBytesDone = tasks
    .filter((x) => x.kind === 'map' && x.status === 'COMMITTED' && x.split)
    .reduce((n, x) => n + (x.split!.end - x.split!.start), 0);
  return {
    jobId: job.jobId,
    status: job.status,
    phase: job.phase,
    map: { done: count('map', 'COMMITTED'), running: count('map', 'RUNNING'), total: job.numMaps },
    reduce: { done: count('reduce', 'COMMITTED'), running: count('reduce', 'RUNNING'), total: job.numReduces },
    inputBytes: job.inputBytes,
    mapBytesDone,
    elapsedMs: Date.now() - startedAt,
  };
}

/** Poll until the job ends; returns the final record. */
export async function waitForJob(t: Target, jobId: string, io: Io, o: WaitOptions): Promise<JobRecord> {
  const jobs = new JobStore(t.clients, t.names.table);
  const reporter = createProgressReporter(io, o.json);
  const started = Date.now();
  const pollMs = o.pollMs ?? 250;
  let lastDetail = 0;
  try {
    for (;;) {
      const job = await jobs.get(jobId);
      if (!job) {
        if (Date.now() - started > (o.appearTimeoutMs ?? 30_000)) {
          throw new EnvironmentError(
            `Job ${jobId} was uploaded but no coordinator picked it up on ${t.description}. ` +
              'Is the stack running (`mapreduce local up`, or the deployed coordinator)?',
          );
        }
      } else if (job.status === 'SUCCEEDED' || job.status === 'FAILED' || job.status === 'CANCELLED') {
        reporter.update(await snapshot(t, job, started));
        return job;
      } else if (Date.now() - lastDetail >= 1000) {
        // Task listing costs a query; once a second is plenty for a progress display.
        lastDetail = Date.now();
        reporter.update(await snapshot(t, job, started));
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  } finally {
    reporter.stop();
  }
}

/** Download `part-*` and `_SUCCESS` of a finished job into a local directory. */
export async function downloadOutput(t: Target, job: JobRecord, dir: string): Promise<string[]> {
  const out = asPrefix(parseS3Uri(job.manifest.output));
  const blobs = new BlobStore(t.clients);
  const objects = (await blobs.list(out.bucket, out.key)).filter((o) => /(^|\/)(part-\d+|_SUCCESS)$/.test(o.key));
  await mkdir(dir, { recursive: true });
  await forEachLimit(objects, 8, async (o) => {
    await pipeline(await blobs.getObject(o.bucket, o.key), createWriteStream(path.join(dir, path.basename(o.key))));
  });
  return objects.map((o) => path.basename(o.key));
}

/** Counters as aligned `group.name  value` lines, framework counters first. */
export function formatCounters(counters: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counters).sort(([a], [b]) => {
    const fa = a.startsWith('mapreduce.') ? 0 : 1;
    const fb = b.startsWith('mapreduce.') ? 0 : 1;
    return fa - fb || (a < b ? -1 : a > b ? 1 : 0);
  });
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}
