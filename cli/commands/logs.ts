/** `mapreduce logs JOB [--task ID]`: the stderr of task attempts, read from S3. */
import type { Command } from 'commander';
import { BlobStore } from '../../aws/blob-store.js';
import { logsPrefix } from '../../core/layout.js';
import type { Io } from '../io.js';
import { addTargetOptions, resolveTarget } from '../target.js';

export function registerLogs(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('logs <job>')
      .description('Print the stderr of task attempts')
      .option('-t, --task <id>', 'only this task (e.g. m-00003 or r-00000)'),
  )
    .addHelpText('after', '\nExamples:\n  $ mapreduce logs 20261123-221501-ab12cd\n  $ mapreduce logs 20261123-221501-ab12cd --task m-00003')
    .action(async (jobId: string, o: Record<string, unknown>) => {
      const t = await resolveTarget(o);
      const blobs = new BlobStore(t.clients);
      const objects = await blobs.list(t.names.bucket, logsPrefix(jobId, o.task as string | undefined));
      if (objects.length === 0) {
        io.out(`No task logs for ${jobId}${o.task ? ` task ${o.task}` : ''} (tasks that wrote nothing to stderr leave none).\n`);
        return;
      }
      for (const obj of objects) {
        io.out(`==> ${obj.key.split('/logs/')[1]} <==\n`);
        const text = await blobs.getText(obj.bucket, obj.key);
        io.out(text.endsWith('\n') || text === '' ? text : `${text}\n`);
      }
    });
}
