/** `mapreduce cancel JOB`: stop scheduling, let running tasks stop, mark the job CANCELLED. */
import type { Command } from 'commander';
import type { Io } from '../io.js';
import { checkJobIdArg } from '../format.js';
import { addTargetOptions, resolveTarget, targetFlags } from '../target.js';

export function registerCancel(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('cancel <job>')
      .description('Cancel a running job: no new tasks start, running tasks stop, the job ends CANCELLED'),
  )
    .addHelpText(
      'after',
      `
Pending tasks are cancelled at once; a running task is stopped by its worker within a
few heartbeats. Output already written is left as it is (no _SUCCESS marker).
A job that already ended cannot be cancelled (exit 2).

Examples:
  $ mapreduce cancel 20261123-221501-ab12cd
  $ mapreduce cancel 20261123-221501-ab12cd --stack MapReduce`,
    )
    .action(async (jobId: string, o: Record<string, unknown>) => {
      checkJobIdArg(jobId);
      const t = await resolveTarget(o);
      const { cancelJob } = await import('../job-client.js');
      await cancelJob(t, jobId);
      io.out(
        `Job ${jobId} cancelled; running tasks stop within a few seconds. ` +
          `Check with: mapreduce status ${jobId}${targetFlags(o)}\n`,
      );
    });
}
