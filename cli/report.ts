/** How `run` and `submit --wait` report a finished job. */
import { costLine } from '../core/cost.js';
import type { JobRecord } from '../core/model.js';
import type { Io } from './io.js';
import { durationSeconds, formatCounters } from './format.js';

export interface ReportOptions {
  readonly json: boolean;
  /** Where the output ended up (a local directory or an s3:// prefix), and how many part files it has. */
  readonly output?: string;
  readonly partFiles?: number;
  /** Flags that select the same target in follow-up commands (` --prefix x`), for hints. */
  readonly targetFlags?: string;
  /** The job's modeled AWS cost (core/job-cost.ts), printed as the last line. */
  readonly costUsd?: number;
}

/** Print the outcome; returns the exit code (0 only for SUCCEEDED). */
export function reportFinished(io: Io, job: JobRecord, o: ReportOptions): number {
  const seconds = durationSeconds(job);
  const flags = o.targetFlags ?? '';
  if (o.json) {
    io.out(
      `${JSON.stringify({
        event: 'result',
        jobId: job.jobId,
        status: job.status,
        ...(job.reason ? { reason: job.reason } : {}),
        output: o.output ?? job.manifest?.output,
        ...(o.partFiles !== undefined ? { partFiles: o.partFiles } : {}),
        seconds,
        numMaps: job.numMaps,
        numReduces: job.numReduces,
        counters: job.counters ?? {},
        ...(o.costUsd !== undefined ? { costUsd: o.costUsd } : {}),
      })}\n`,
    );
    return job.status === 'SUCCEEDED' ? 0 : 1;
  }
  const counters = Object.keys(job.counters ?? {}).length > 0 ? `Counters:\n${formatCounters(job.counters)}\n` : '';
  const cost = o.costUsd !== undefined ? `${costLine(o.costUsd)}\n` : '';
  if (job.status === 'SUCCEEDED') {
    io.out(`Job ${job.jobId} succeeded in ${seconds}s.\n`);
    const parts = o.partFiles === undefined ? '' : ` (${o.partFiles} part file${o.partFiles === 1 ? '' : 's'})`;
    io.out(`Output: ${o.output ?? job.manifest?.output ?? '-'}${parts}\n`);
    io.out(counters);
    io.out(cost);
    return 0;
  }
  io.err(`Job ${job.jobId} ${job.status} after ${seconds}s: ${job.reason ?? 'no reason recorded'}\n`);
  io.err(counters);
  io.err(cost);
  if (job.status === 'FAILED' && job.numMaps > 0) {
    io.err(`Task logs: mapreduce logs ${job.jobId}${flags}   Details: mapreduce status ${job.jobId}${flags}\n`);
  }
  return 1;
}
