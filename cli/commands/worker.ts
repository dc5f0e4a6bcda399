/** `mapreduce worker`: the worker entrypoint (the container's command). */
import type { Command } from 'commander';
import type { Io } from '../io.js';

export function registerWorker(program: Command, io: Io): void {
  program
    .command('worker')
    .description('Run a worker: poll the task queue and run tasks until SIGTERM')
    .addHelpText(
      'after',
      `
Reads MR_BUCKET, MR_TABLE, MR_TASKS_QUEUE, MR_SUBMISSIONS_QUEUE (set by the stack or \`local up\`),
AWS_REGION and, for an emulator, AWS_ENDPOINT_URL. Logs are JSON lines on stdout.

Example:
  $ MR_BUCKET=... MR_TABLE=... MR_TASKS_QUEUE=... MR_SUBMISSIONS_QUEUE=... mapreduce worker`,
    )
    .action(async () => {
      const { runWorker } = await import('../../worker/main.js');
      io.exitCode = await runWorker();
    });
}
