/** `mapreduce worker`: the worker entrypoint (the container's command). */
import type { Command } from 'commander';
import type { Io } from '../io.js';

export function registerWorker(program: Command, io: Io): void {
  program
    .command('worker')
    .description('Run a worker: poll the task queue and run tasks until SIGTERM')
    .option('--supervise', 'run the worker as a child process and start a new one each time it exits to be recycled (the ECS container command)')
    .addHelpText(
      'after',
      `
Reads MR_BUCKET, MR_TABLE, MR_TASKS_QUEUE, MR_SUBMISSIONS_QUEUE (set by the stack or \`local up\`),
AWS_REGION and, for an emulator, AWS_ENDPOINT_URL. Logs are JSON lines on stdout.
Between tasks a worker may exit with code 75 to be replaced (MR_WORKER_RECYCLE_* , see
docs/cli.md); --supervise starts the replacement itself, as the ECS container does.

Example:
  $ MR_BUCKET=... MR_TABLE=... MR_TASKS_QUEUE=... MR_SUBMISSIONS_QUEUE=... mapreduce worker`,
    )
    .action(async (opts: { supervise?: boolean }) => {
      if (opts.supervise) {
        const { superviseWorker } = await import('../../worker/supervisor.js');
        io.exitCode = await superviseWorker();
        return;
      }
      const { runWorker } = await import('../../worker/main.js');
      io.exitCode = await runWorker();
    });
}
