/** `mapreduce status [JOB]`: recent jobs, or one job in detail. */
import type { Command } from 'commander';
import { JobStore } from '../../aws/job-store.js';
import { TaskStore } from '../../aws/task-store.js';
import { WorkerStore } from '../../aws/worker-store.js';
import { leaseMs, timingsFromEnv } from '../../core/config.js';
import { UsageError } from '../../core/errors.js';
import type { JobRecord } from '../../core/model.js';
import type { Io } from '../io.js';
import { formatCounters } from '../job-client.js';
import { addTargetOptions, resolveTarget, type Target } from '../target.js';

export function jobRow(j: JobRecord): string[] {
  const dur = j.finishedAt ? `${((Date.parse(j.finishedAt) - Date.parse(j.createdAt)) / 1000).toFixed(1)}s` : '-';
  return [
    j.jobId,
    j.status,
    j.phase,
    `${j.mapsCommitted}/${j.numMaps}`,
    `${j.reducesCommitted}/${j.numReduces}`,
    j.createdAt,
    dur,
  ];
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export const JOB_HEADER = ['JOB', 'STATUS', 'PHASE', 'MAPS', 'REDUCES', 'CREATED', 'DURATION'];

async function jobDetail(t: Target, job: JobRecord, io: Io): Promise<void> {
  const tasks = await new TaskStore(t.clients, t.names.table).list(job.jobId);
  const workers = await new WorkerStore(t.clients, t.names.table).list();
  const byState = (kind: string) => {
    const counts: Record<string, number> = {};
    for (const x of tasks.filter((x) => x.kind === kind)) counts[x.status] = (counts[x.status] ?? 0) + 1;
    return Object.entries(counts).map(([k, v]) => `${k.toLowerCase()} ${v}`).join(', ') || 'none';
  };
  const now = Date.now();
  const lease = leaseMs(timingsFromEnv());
  const lines = [
    `Job:       ${job.jobId}${job.manifest?.name ? ` (${job.manifest.name})` : ''}`,
    `Status:    ${job.status}   Phase: ${job.phase}`,
    `Input:     ${JSON.stringify(job.manifest?.input ?? '-')} (${job.inputBytes} bytes)`,
    `Output:    ${job.manifest?.output ?? '-'}`,
    `Map:       ${job.mapsCommitted}/${job.numMaps} committed (${byState('map')})`,
    `Reduce:    ${job.reducesCommitted}/${job.numReduces} committed (${byState('reduce')})`,
    `Created:   ${job.createdAt}${job.finishedAt ? `   Finished: ${job.finishedAt}` : ''}`,
  ];
  if (job.statusMessage) lines.push(`Last task status: ${job.statusMessage}`);
  if (job.reason) lines.push(`Reason:    ${job.reason}`);
  const failed = tasks.filter((x) => x.lastError);
  for (const x of failed.slice(0, 5)) lines.push(`Task ${x.taskId} last error: ${x.lastError}`);
  lines.push('Workers:');
  if (workers.length === 0) lines.push('  none');
  for (const w of workers) {
    const age = (now - w.heartbeatAt) / 1000;
    lines.push(
      `  ${w.workerId}  last heartbeat ${age.toFixed(1)}s ago${now - w.heartbeatAt > lease ? ' (dead)' : ''}${
        w.runningTask ? `  running ${w.runningTask}` : ''
      }`,
    );
  }
  if (Object.keys(job.counters ?? {}).length > 0) lines.push('Counters:', formatCounters(job.counters));
  io.out(`${lines.join('\n')}\n`);
}

export function registerStatus(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('status [job]')
      .description('Show recent jobs, or one job in detail (tasks, workers, counters, failure reason)')
      .option('--json', 'print JSON'),
  )
    .addHelpText('after', '\nExamples:\n  $ mapreduce status\n  $ mapreduce status 20261123-221501-ab12cd\n  $ mapreduce status --stack MapReduce --json')
    .action(async (jobId: string | undefined, o: Record<string, unknown>) => {
      const t = await resolveTarget(o);
      const jobs = new JobStore(t.clients, t.names.table);
      if (!jobId) {
        const recent = await jobs.listRecent(20);
        if (o.json) io.out(`${JSON.stringify(recent)}\n`);
        else io.out(recent.length ? `${table(JOB_HEADER, recent.map(jobRow))}\n` : 'No jobs yet.\n');
        return;
      }
      const job = await jobs.get(jobId);
      if (!job) throw new UsageError(`No job "${jobId}" on ${t.description}. List jobs with \`mapreduce jobs\`.`);
      if (o.json) io.out(`${JSON.stringify(job)}\n`);
      else await jobDetail(t, job, io);
    });
}
