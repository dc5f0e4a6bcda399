/** `mapreduce cancel JOB`: stop scheduling, let running tasks stop, mark the job CANCELLED. */
import type { Command } from 'commander';
import { JobStore } from '../../aws/job-store.js';
import { TaskStore } from '../../aws/task-store.js';
import { UsageError } from '../../core/errors.js';
import type { Io } from '../io.js';
import { addTargetOptions, resolveTarget } from '../target.js';

export function registerCancel(program: Command, io: Io): void {
  addTargetOptions(program.command('cancel <job>').description('Cancel a running job'))
    .addHelpText('after', '\nExample:\n  $ mapreduce cancel 20261123-221501-ab12cd')
    .action(async (jobId: string, o: Record<string, unknown>) => {
      const t = await resolveTarget(o);
      const jobs = new JobStore(t.clients, t.names.table);
      const job = await jobs.get(jobId);
      if (!job) throw new UsageError(`No job "${jobId}" on ${t.description}.`);
      if (!(await jobs.end(jobId, 'CANCELLED', 'cancelled by user', new Date().toISOString()))) {
        throw new UsageError(`Job ${jobId} is already ${job.status}; nothing to cancel.`);
      }
      // Pending tasks are cancelled now; running ones stop at their worker's next job check.
      const tasks = new TaskStore(t.clients, t.names.table);
      for (const task of await tasks.list(jobId)) {
        if (task.status === 'PENDING') await tasks.cancel(jobId, task.taskId).catch(() => {});
      }
      io.out(`Job ${jobId} cancelled.\n`);
    });
}
