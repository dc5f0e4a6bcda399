/** How `run` and `submit --wait` report a finished job. */
import type { JobRecord } from '../core/model.js';
import type { Io } from './io.js';
import { formatCounters } from './job-client.js';

/** Print the outcome; returns the exit code (0 only for SUCCEEDED). */
export function reportFinished(io: Io, job: JobRecord, json: boolean, extra: Record<string, unknown> = {}): number {
  const seconds =
    job.finishedAt && job.createdAt ? ((Date.parse(job.finishedAt) - Date.parse(job.createdAt)) / 1000).toFixed(1) : '?';
  if (json) {
    io.out(
      `${JSON.stringify({
        event: 'result',
        jobId: job.jobId,
        status: job.status,
        reason: job.reason,
        output: job.manifest?.output,
        seconds: Number(seconds),
        counters: job.counters,
        ...extra,
      })}\n`,
    );
  } else if (job.status === 'SUCCEEDED') {
    io.out(`Job ${job.jobId} succeeded in ${seconds}s.\n`);
    for (const [k, v] of Object.entries(extra)) io.out(`${k}: ${v}\n`);
    if (Object.keys(job.counters ?? {}).length > 0) io.out(`Counters:\n${formatCounters(job.counters)}\n`);
  } else {
    io.err(`Job ${job.jobId} ${job.status}: ${job.reason ?? 'no reason recorded'}\n`);
    if (job.status === 'FAILED') io.err(`See the task logs with: mapreduce logs ${job.jobId}\n`);
  }
  return job.status === 'SUCCEEDED' ? 0 : 1;
}
