/** `mapreduce report JOB [--out FILE] [--open]`: one self-contained HTML page about a job. */
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { JobReport } from '../../core/job-report.js';
import { formatUsd } from '../../core/cost.js';
import type { Io } from '../io.js';
import { checkJobIdArg } from '../format.js';
import { addTargetOptions, resolveTarget, type Target } from '../target.js';

/** Read what the report needs: the job, its task records, and the stderr of its failed attempts. */
async function loadJobReport(t: Target, jobId: string, now = Date.now()): Promise<JobReport> {
  const [{ BlobStore }, { JobStore }, { TaskStore }, { logKey }, { buildJobReport }, { jobAttempts }] = await Promise.all([
    import('../../aws/blob-store.js'),
    import('../../aws/job-store.js'),
    import('../../aws/task-store.js'),
    import('../../core/layout.js'),
    import('../../core/job-report.js'),
    import('../../core/attempts.js'),
  ]);
  const job = await new JobStore(t.clients, t.names.table).get(jobId);
  if (!job) throw new UsageError(`No job "${jobId}" on ${t.description}. List jobs with \`mapreduce jobs\`.`);
  const tasks = await new TaskStore(t.clients, t.names.table).list(jobId);
  // Only failed attempts show stderr; their logs are where `mapreduce logs` finds them.
  const blobs = new BlobStore(t.clients);
  const failed = jobAttempts(job, tasks, now).filter((a) => a.outcome === 'failed');
  const stderr: Record<string, string> = {};
  for (const a of failed.slice(0, 50)) {
    const text = await blobs.getTextIfExists(t.names.bucket, logKey(jobId, a.taskId, a.attempt));
    if (text !== undefined) stderr[`${a.taskId}/${a.attempt}`] = text;
  }
  return buildJobReport({ job, tasks, stderr, now });
}

/** Open a file with the desktop's viewer, without a shell. */
function openFile(file: string): Promise<void> {
  const [cmd, args]: [string, string[]] =
    process.platform === 'darwin'
      ? ['open', [file]]
      : process.platform === 'win32'
        ? ['explorer.exe', [file]]
        : ['xdg-open', [file]];
  return new Promise((resolve, reject) => {
    // ExecFileException is an Error whose type (an Omit<>) the lint rule does not recognise as one.
    execFile(cmd, args, (err) => (err ? reject(err as Error) : resolve()));
  });
}

export function registerReport(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('report <job>')
      .description('Write an HTML report of a job: timeline, durations, throughput, counters, failures, cost')
      .option('-o, --out <file>', 'where to write the report (default: report-<job>.html)')
      .option('--open', 'open the report in the default browser')
      .option('--json', 'print the report data as JSON instead of writing HTML'),
  )
    .addHelpText(
      'after',
      `
The page is one file with its charting library inlined (no network needed to view it).
It shows one row per worker with a bar per attempt (coloured by phase and outcome),
phase boundaries, attempt durations per phase with stragglers marked, throughput,
counters in Hadoop's groups, failed attempts with the tail of their stderr, and the
job's modeled AWS cost by service.

Examples:
  $ mapreduce report 20261123-221501-ab12cd                     # writes report-20261123-221501-ab12cd.html
  $ mapreduce report 20261123-221501-ab12cd --out wc.html --open
  $ mapreduce report 20261123-221501-ab12cd --stack MapReduce --out wc.html
  $ mapreduce report 20261123-221501-ab12cd --json | jq .cost.usd`,
    )
    .action(async (jobId: string, o: Record<string, unknown>) => {
      checkJobIdArg(jobId);
      const t = await resolveTarget(o);
      const report = await loadJobReport(t, jobId);
      if (o.json) {
        io.out(`${JSON.stringify(report)}\n`);
        return;
      }
      const { renderReportHtml } = await import('../report-html.js');
      const file = path.resolve((o.out as string | undefined) ?? `report-${jobId}.html`);
      const html = await renderReportHtml(report);
      try {
        await writeFile(file, html);
      } catch (err) {
        throw new UsageError(`Cannot write the report to ${file}: ${(err as Error).message}`, { cause: err });
      }
      io.err(`Report of job ${jobId} (${report.attempts.length} attempts, ≈ ${formatUsd(report.cost.totalUsd)} on AWS): ${file}\n`);
      io.out(`${file}\n`);
      if (o.open) {
        await openFile(file).catch((err: Error) => {
          io.err(`Could not open a browser (${err.message}); open ${file} yourself.\n`);
        });
      }
    });
}
