/** `mapreduce submit`: upload a job to a running stack (local or AWS); `--wait` follows it. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { newJobId } from '../../core/model.js';
import { localResourceNames } from '../../core/resources.js';
import type { Io } from '../io.js';
import { addJobOptions, jobFlags } from '../job-options.js';
import { JobPackager } from '../job-spec.js';
import { followJob } from '../follow.js';
import { addTargetOptions, localPrefix, openTarget, resolveTarget, targetFlags } from '../target.js';

export function registerSubmit(program: Command, io: Io): void {
  const cmd = program.command('submit').description('Submit a job to a running stack (local, or AWS with --stack)');
  addTargetOptions(addJobOptions(cmd))
    .option('--wait', 'wait for the job to finish, showing progress (exit 1 if it fails)')
    .addHelpText(
      'after',
      `
Without --wait, prints the job id and returns at once; follow the job with
\`mapreduce status <job>\`. A local --output directory needs --wait.

Examples:
  $ mapreduce submit -i data/ -o out -m wc_map.sh -r wc_reduce.sh --wait        # local stack from \`local up\`
  $ JOB=$(mapreduce submit -i data/ -o s3://mapreduce-local-jobs/out/wc/ -m wc_map.sh -r wc_reduce.sh)
  $ AWS_PROFILE=prod mapreduce submit --stack MapReduce -i s3://bkt/in/ -o s3://bkt/out/ -m wc.ts -r wc.ts --wait`,
    )
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      const json = o.json === true;
      const jobId = newJobId();
      // Local checks first: they need no stack.
      const flags = jobFlags(o, cmd.args);
      if (!o.wait && !/^s3:/i.test(flags.output)) {
        throw new UsageError(
          `A local --output directory (${flags.output}) needs --wait, because the output is downloaded when the job ends; ` +
            'or give an s3:// output.',
        );
      }
      // A deployed stack names its bucket in its outputs; a local one's name is known up front,
      // so local paths are checked before looking for the stack.
      const deployed = o.stack ? await resolveTarget(o) : undefined;
      const bucket = deployed?.names.bucket ?? localResourceNames(localPrefix(o)).bucket;
      // A local stack reads local input in place; a deployed one gets it uploaded. The local
      // stack is looked for while modules are bundled; a mistake in the flags is still reported first.
      const packaging = new JobPackager(jobId, bucket).prepare(flags, { localFiles: !o.stack && !flags.uploadInput });
      // Its check then goes out beside the preflight (preflightBeside).
      const opening = deployed ? Promise.resolve({ target: deployed, checked: Promise.resolve() }) : openTarget(o);
      opening.catch(() => {});
      const prepared = await packaging;
      const marker = prepared.localInputFiles.find((file) => /(^|\/)_READY$/.test(file));
      if (marker) {
        io.err(
          `Warning: ${marker} is a _READY marker inside the input folder. submit reads the folder as this job's input ` +
            '(markers are not read as data). To run it as a pipeline batch instead, upload the data under ' +
            'incoming/<pipeline>/<batch>/ and _READY last, or give _READY the batch size: {"expectedObjects": N}.\n',
        );
      }
      const { preflightBeside, uploadJob } = await import('../job-client.js');
      const target = await preflightBeside(await opening, prepared);
      await uploadJob(target, prepared);
      if (!o.wait) {
        if (json) io.out(`${JSON.stringify({ event: 'submitted', jobId })}\n`);
        else io.out(`${jobId}\n`);
        return;
      }
      io.exitCode = await followJob(io, target, prepared, { json, targetFlags: targetFlags(o) });
    });
}
