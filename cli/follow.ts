/**
 * What `run` and `submit --wait` do once the job is uploaded: announce it, follow its
 * progress, download a local output, and report. Returns the exit code.
 */
import type { JobRecord } from '../core/model.js';
import type { Io } from './io.js';
import type { PreparedJob } from './job-flags.js';
import { reportFinished } from './report.js';
import type { Target } from './target.js';

export async function followJob(
  io: Io,
  target: Target,
  prepared: PreparedJob,
  o: { readonly json: boolean; readonly targetFlags: string },
): Promise<number> {
  const { downloadOutput, waitForJob } = await import('./job-client.js');
  const { jobId } = prepared;
  if (o.json) io.out(`${JSON.stringify({ event: 'submitted', jobId, target: target.description })}\n`);
  else io.err(`Submitted job ${jobId} to ${target.description}\n`);
  const dir = prepared.localOutputDir;
  // The download starts as soon as a record shows the job SUCCEEDED (written after `_SUCCESS`):
  // beside the wait's last task listing, not after it.
  let download: Promise<string[]> | undefined;
  const onEnded = (ended: JobRecord) => {
    if (ended.status !== 'SUCCEEDED' || !dir) return;
    download = downloadOutput(target, ended, dir);
    download.catch(() => {}); // awaited below, once the wait is over
  };
  const [{ job, tasks, interrupted }, { costOfTasks }] = await Promise.all([
    waitForJob(target, jobId, io, { json: o.json, cancelOnInterrupt: true, onEnded }),
    import('./job-cost.js'),
  ]);
  let output: { output?: string; partFiles?: number } = {};
  if (job.status === 'SUCCEEDED' && dir) {
    const files = await (download ?? downloadOutput(target, job, dir));
    output = { output: dir, partFiles: files.filter((f) => f.startsWith('part-')).length };
  }
  // The cost comes from the task records the wait read last: no second query.
  const costUsd = costOfTasks(job, tasks).totalUsd;
  const code = reportFinished(io, job, { json: o.json, ...output, targetFlags: o.targetFlags, costUsd });
  return interrupted ? 130 : code;
}
