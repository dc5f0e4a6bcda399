/** `mapreduce submit`: upload a job to a running stack (local or AWS); `--wait` follows it. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { newJobId } from '../../core/model.js';
import type { Io } from '../io.js';
import { downloadOutput, uploadJob, waitForJob } from '../job-client.js';
import { addJobOptions, jobFlags } from '../job-options.js';
import { JobPackager } from '../job-spec.js';
import { reportFinished } from '../report.js';
import { addTargetOptions, resolveTarget } from '../target.js';

export function registerSubmit(program: Command, io: Io): void {
  const cmd = program.command('submit').description('Submit a job to a running stack (local, or AWS with --stack)');
  addTargetOptions(addJobOptions(cmd))
    .option('--wait', 'wait for the job to finish, showing progress')
    .addHelpText(
      'after',
      `
Examples:
  $ mapreduce submit -i data/ -o out -m wc_map.sh -r wc_reduce.sh --wait        # local stack from \`local up\`
  $ AWS_PROFILE=prod mapreduce submit --stack MapReduce -i s3://bkt/in/ -o s3://bkt/out/ -m wc.ts -r wc.ts`,
    )
    .action(async (o: Record<string, unknown>) => {
      const target = await resolveTarget(o);
      const jobId = newJobId();
      const prepared = await new JobPackager(jobId, target.names.bucket).prepare(jobFlags(o));
      if (prepared.localOutputDir && !o.wait) {
        throw new UsageError(
          'A local --output directory needs --wait (the output is downloaded when the job ends); or give an s3:// output.',
        );
      }
      await uploadJob(target, prepared);
      if (!o.wait) {
        if (o.json) io.out(`${JSON.stringify({ event: 'submitted', jobId })}\n`);
        else io.out(`${jobId}\n`);
        return;
      }
      if (!o.json) io.err(`Submitted job ${jobId} to ${target.description}\n`);
      const job = await waitForJob(target, jobId, io, { json: o.json === true });
      const extra: Record<string, unknown> = {};
      if (job.status === 'SUCCEEDED' && prepared.localOutputDir) {
        await downloadOutput(target, job, prepared.localOutputDir);
        extra.output = prepared.localOutputDir;
      }
      io.exitCode = reportFinished(io, job, o.json === true, extra);
    });
}
