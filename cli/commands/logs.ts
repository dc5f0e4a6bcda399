/** `mapreduce logs JOB [--task ID]`: the stderr of task attempts, read from S3. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { Io } from '../io.js';
import { checkJobIdArg } from '../format.js';
import { positiveInt } from '../job-options.js';
import { addTargetOptions, resolveTarget } from '../target.js';

const TASK_RE = /^[mr]-\d{5}$/;

export function registerLogs(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('logs <job>')
      .description('Print the stderr of task attempts (stored in S3 under jobs/<job>/logs/)')
      .option('-t, --task <id>', 'only this task, e.g. m-00003 (map) or r-00000 (reduce)')
      .option('-a, --attempt <n>', 'only this attempt number', positiveInt('--attempt')),
  )
    .addHelpText(
      'after',
      `
Each attempt that wrote to stderr leaves one log (reporter: lines included); a failed
attempt leaves at least the last lines of its stderr. Worker logs (JSON) are separate:
see \`mapreduce local up\` or CloudWatch.

Examples:
  $ mapreduce logs 20261123-221501-ab12cd
  $ mapreduce logs 20261123-221501-ab12cd --task m-00003
  $ mapreduce logs 20261123-221501-ab12cd --task r-00000 --attempt 2`,
    )
    .action(async (jobId: string, o: Record<string, unknown>) => {
      checkJobIdArg(jobId);
      const task = o.task as string | undefined;
      if (task !== undefined && !TASK_RE.test(task)) {
        throw new UsageError(
          `"${task}" is not a task id: use m-NNNNN for map tasks or r-NNNNN for reduce tasks ` +
            `(see \`mapreduce status ${jobId}\`).`,
        );
      }
      const t = await resolveTarget(o);
      const [{ BlobStore }, { JobStore }, { logsPrefix }] = await Promise.all([
        import('../../aws/blob-store.js'),
        import('../../aws/job-store.js'),
        import('../../core/layout.js'),
      ]);
      if (!(await new JobStore(t.clients, t.names.table).get(jobId, false))) {
        throw new UsageError(`No job "${jobId}" on ${t.description}. List jobs with \`mapreduce jobs\`.`);
      }
      const blobs = new BlobStore(t.clients);
      const attempt = o.attempt as number | undefined;
      const objects = (await blobs.list(t.names.bucket, logsPrefix(jobId, task))).filter(
        (obj) => attempt === undefined || obj.key.endsWith(`/attempt-${attempt}.stderr`),
      );
      if (objects.length === 0) {
        const which = `${task ? ` task ${task}` : ''}${attempt ? ` attempt ${attempt}` : ''}`;
        io.out(`No stderr recorded for job ${jobId}${which} (attempts that write nothing to stderr leave no log).\n`);
        return;
      }
      for (const obj of objects) {
        const m = /\/logs\/([^/]+)\/attempt-(\d+)\.stderr$/.exec(obj.key);
        io.out(`==> ${m ? `task ${m[1]} attempt ${m[2]}` : obj.key} <==\n`);
        const text = await blobs.getText(obj.bucket, obj.key);
        io.out(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      }
    });
}
