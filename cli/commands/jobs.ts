/** `mapreduce jobs`: job history, newest first. */
import { type Command, InvalidArgumentError } from 'commander';
import type { JobStatus } from '../../core/model.js';
import type { Io } from '../io.js';
import { redactJob } from '../redact.js';
import { positiveInt } from '../job-options.js';
import { addTargetOptions, resolveTarget } from '../target.js';
import { jobsTable } from './status.js';

const STATUSES: readonly JobStatus[] = ['CREATING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'];

export function registerJobs(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('jobs')
      .description('List job history, newest first')
      .option('-n, --limit <n>', 'how many jobs (default 100)', positiveInt('--limit'))
      .option('--status <status>', `only jobs with this status (${STATUSES.join(', ')})`, (v: string) => {
        const s = v.toUpperCase() as JobStatus;
        if (!STATUSES.includes(s))
          throw new InvalidArgumentError(`must be one of ${STATUSES.join(', ')} (got "${v}").`);
        return s;
      })
      .option('--json', 'print JSON (an array of job records)'),
  )
    .addHelpText(
      'after',
      `
Examples:
  $ mapreduce jobs
  $ mapreduce jobs --status failed -n 10
  $ mapreduce jobs --json | jq -r '.[] | [.jobId, .status] | @tsv'`,
    )
    .action(async (o: Record<string, unknown>) => {
      const t = await resolveTarget(o);
      const { JobStore } = await import('../../aws/job-store.js');
      let recent = await new JobStore(t.clients, t.names.table).listRecent((o.limit as number | undefined) ?? 100);
      if (o.status) recent = recent.filter((j) => j.status === o.status);
      io.out(o.json ? `${JSON.stringify(recent.map(redactJob))}\n` : jobsTable(recent));
    });
}
