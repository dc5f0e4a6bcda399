/** `mapreduce jobs`: job history, newest first. */
import type { Command } from 'commander';
import { JobStore } from '../../aws/job-store.js';
import type { Io } from '../io.js';
import { positiveInt } from '../job-options.js';
import { addTargetOptions, resolveTarget } from '../target.js';
import { JOB_HEADER, jobRow, table } from './status.js';

export function registerJobs(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('jobs')
      .description('List job history, newest first')
      .option('-n, --limit <n>', 'how many jobs (default 100)', positiveInt('--limit'))
      .option('--json', 'print JSON'),
  )
    .addHelpText('after', '\nExamples:\n  $ mapreduce jobs\n  $ mapreduce jobs -n 10 --json')
    .action(async (o: Record<string, unknown>) => {
      const t = await resolveTarget(o);
      const recent = await new JobStore(t.clients, t.names.table).listRecent((o.limit as number | undefined) ?? 100);
      if (o.json) io.out(`${JSON.stringify(recent)}\n`);
      else io.out(recent.length ? `${table(JOB_HEADER, recent.map(jobRow))}\n` : 'No jobs yet.\n');
    });
}
