/** `mapreduce status [JOB]`: recent jobs, or one job in detail. */
import type { Command } from 'commander';
import type { TaskItem } from '../../aws/task-store.js';
import { costLine } from '../../core/cost.js';
import { UsageError } from '../../core/errors.js';
import type { JobRecord, WorkerRecord } from '../../core/model.js';
import { backupLines, backupsOf } from '../backups.js';
import type { Io } from '../io.js';
import { redactJob } from '../redact.js';
import { checkJobIdArg, durationSeconds, formatCounters } from '../format.js';
import { positiveInt } from '../job-options.js';
import { addTargetOptions, resolveTarget, type Target } from '../target.js';
import { stepProgressLines } from '../../core/steps.js';

const firstLine = (s: string, max: number) => {
  const line = s.split('\n')[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

function jobRow(j: JobRecord): string[] {
  const dur = durationSeconds(j);
  return [
    j.jobId,
    j.manifest?.name ?? '-',
    j.status,
    (j.manifest?.steps?.length ?? 1) > 1 ? `${j.phase} ${(j.step ?? 0) + 1}/${j.manifest!.steps.length}` : j.phase,
    `${j.mapsCommitted}/${j.numMaps}`,
    `${j.reducesCommitted}/${j.numReduces}`,
    j.createdAt,
    dur === undefined ? '-' : `${dur}s`,
    j.reason ? firstLine(j.reason, 60) : '',
  ];
}

export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

const JOB_HEADER = ['JOB', 'NAME', 'STATUS', 'PHASE', 'MAPS', 'REDUCES', 'CREATED', 'DURATION', 'REASON'];

export function jobsTable(jobs: readonly JobRecord[]): string {
  return jobs.length ? `${table(JOB_HEADER, jobs.map(jobRow))}\n` : 'No jobs yet.\n';
}

/** Task counts by kind and status, e.g. `{ map: { COMMITTED: 3, RUNNING: 1 }, reduce: { PENDING: 2 } }`. */
function taskCounts(tasks: readonly TaskItem[]): Record<'map' | 'reduce', Record<string, number>> {
  const out: Record<'map' | 'reduce', Record<string, number>> = { map: {}, reduce: {} };
  for (const t of tasks) out[t.kind][t.status] = (out[t.kind][t.status] ?? 0) + 1;
  return out;
}

interface WorkerView {
  readonly workerId: string;
  readonly host: string;
  readonly heartbeatAgeSeconds: number;
  readonly runningTask?: string;
}

/**
 * Workers whose last heartbeat is within the lease: the ones that can still make
 * progress. A worker that owns a running task of the job is shown with that task and
 * the task's last lease extension, which are exact (a busy worker does not rewrite its
 * own item while its task's lease writes succeed: worker/heartbeat.ts).
 */
function liveWorkers(
  workers: readonly WorkerRecord[],
  tasks: readonly TaskItem[],
  now: number,
  lease: number,
): WorkerView[] {
  const owned = new Map<string, TaskItem>();
  for (const t of tasks) if (t.status === 'RUNNING' && t.owner) owned.set(t.owner, t);
  return workers.flatMap((w) => {
    const task = owned.get(w.workerId);
    const beatAt = Math.max(w.heartbeatAt, task?.leaseExpiresAt !== undefined ? task.leaseExpiresAt - lease : 0);
    if (now - beatAt > lease) return [];
    const runningTask = task ? `${task.jobId}/${task.taskId}` : w.runningTask;
    return [
      {
        workerId: w.workerId,
        host: w.host,
        heartbeatAgeSeconds: Math.max(0, Math.round((now - beatAt) / 100) / 10),
        ...(runningTask ? { runningTask } : {}),
      },
    ];
  });
}

async function jobDetail(t: Target, job: JobRecord, io: Io, json: boolean): Promise<void> {
  const [{ TaskStore }, { WorkerStore }, { leaseMs, timingsFromEnv }] = await Promise.all([
    import('../../aws/task-store.js'),
    import('../../aws/worker-store.js'),
    import('../../core/config.js'),
  ]);
  const tasks = await new TaskStore(t.clients, t.names.table).list(job.jobId);
  const now = Date.now();
  const workers = liveWorkers(
    await new WorkerStore(t.clients, t.names.table).list(),
    tasks,
    now,
    leaseMs(timingsFromEnv()),
  );
  // The current step's tasks (a multi-step job's earlier steps are summarised in job.stepsDone).
  const counts = taskCounts(tasks.filter((x) => (x.step ?? 0) === (job.step ?? 0)));
  const { costOfTasks } = await import('../job-cost.js');
  const cost = costOfTasks(job, tasks, now);
  if (json) {
    const costUsd = { total: cost.totalUsd, ...cost.usd };
    const backups = backupsOf(tasks);
    io.out(`${JSON.stringify({ ...redactJob(job), durationSeconds: durationSeconds(job), tasks: counts, backups, workers, costUsd })}\n`);
    return;
  }
  const byState = (c: Record<string, number>) =>
    Object.entries(c)
      .map(([k, v]) => `${k.toLowerCase()} ${v}`)
      .join(', ') || 'none';
  const m = job.manifest;
  const step = (s: unknown) => (typeof s === 'string' ? s : s ? `module ${(s as { module: string }).module}` : '-');
  const lines = [
    `Job:       ${job.jobId}${m?.name ? ` (${m.name})` : ''}`,
    `Status:    ${job.status}   Phase: ${job.phase}`,
  ];
  if (m) {
    lines.push(
      `Input:     ${Array.isArray(m.input) ? m.input.join(', ') : m.input} (${job.inputBytes} bytes)`,
      `Output:    ${m.output}`,
      ...m.steps.map(
        (st, i) =>
          `${m.steps.length > 1 ? `Step ${i + 1}:    ` : ''}Mapper:    ${step(st.mapper)}${st.combiner ? `   Combiner: ${step(st.combiner)}` : ''}   Reducer: ${
            st.reducer && st.numReducers > 0 ? `${step(st.reducer)} (${st.numReducers})` : 'none (map-only)'
          }`,
      ),
    );
  }
  lines.push(...stepProgressLines(job));
  lines.push(
    `Map:       ${job.mapsCommitted}/${job.numMaps} committed (${byState(counts.map)})`,
    `Reduce:    ${job.reducesCommitted}/${job.numReduces} committed (${byState(counts.reduce)})`,
    `Created:   ${job.createdAt}${job.finishedAt ? `   Finished: ${job.finishedAt}` : ''}   Duration: ${durationSeconds(job)}s`,
  );
  if (job.statusMessage) lines.push(`Last task status: ${job.statusMessage}`);
  if (job.reason) lines.push(`Reason:    ${job.reason.replace(/\n/g, '\n           ')}`);
  const failed = tasks.filter((x) => x.lastError);
  if (failed.length > 0) lines.push('Failed attempts:');
  for (const x of failed.slice(0, 10)) {
    lines.push(
      `  ${x.taskId} (attempt ${x.attempt}, ${x.failures} failed, ${x.stalls} stalled): ${firstLine(x.lastError!, 200)}`,
    );
  }
  if (failed.length > 10) lines.push(`  ... and ${failed.length - 10} more tasks`);
  lines.push(...backupLines(backupsOf(tasks)));
  lines.push('Live workers:');
  if (workers.length === 0) lines.push('  none');
  for (const w of workers) {
    const mine = w.runningTask?.startsWith(`${job.jobId}/`);
    lines.push(
      `  ${w.workerId}  last heartbeat ${w.heartbeatAgeSeconds.toFixed(1)}s ago${
        w.runningTask ? `  running ${mine ? w.runningTask.slice(job.jobId.length + 1) : w.runningTask}` : '  idle'
      }`,
    );
  }
  lines.push('Counters:', Object.keys(job.counters ?? {}).length > 0 ? formatCounters(job.counters) : '  none yet');
  lines.push(`${costLine(cost.totalUsd)}${job.status === 'RUNNING' || job.status === 'CREATING' ? ' so far' : ''}`);
  io.out(`${lines.join('\n')}\n`);
}

export function registerStatus(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('status [job]')
      .description('Show recent jobs, or one job in detail (tasks, live workers, counters, failure reason)')
      .option('-n, --limit <n>', 'how many recent jobs without JOB (default 20)', positiveInt('--limit'))
      .option('--json', 'print JSON'),
  )
    .addHelpText(
      'after',
      `
With a JOB, exits 1 when the job FAILED or was CANCELLED (0 otherwise), so scripts can
test the outcome.

Examples:
  $ mapreduce status                              # the 20 most recent jobs
  $ mapreduce status 20261123-221501-ab12cd       # one job: phase, tasks, workers, counters, reason
  $ mapreduce status 20261123-221501-ab12cd --json | jq .counters
  $ mapreduce status --stack MapReduce`,
    )
    .action(async (jobId: string | undefined, o: Record<string, unknown>) => {
      if (jobId !== undefined) checkJobIdArg(jobId);
      const limit = (o.limit as number | undefined) ?? 20;
      const t = await resolveTarget(o);
      const { JobStore } = await import('../../aws/job-store.js');
      const jobs = new JobStore(t.clients, t.names.table);
      if (!jobId) {
        const recent = await jobs.listRecent(limit);
        io.out(o.json ? `${JSON.stringify(recent.map(redactJob))}\n` : jobsTable(recent));
        return;
      }
      const job = await jobs.get(jobId);
      if (!job) throw new UsageError(`No job "${jobId}" on ${t.description}. List jobs with \`mapreduce jobs\`.`);
      await jobDetail(t, job, io, o.json === true);
      if (job.status === 'FAILED' || job.status === 'CANCELLED') io.exitCode = 1;
    });
}
