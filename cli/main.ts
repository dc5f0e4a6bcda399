/**
 * `mapreduce`: the CLI. `runMain(argv)` is what the bin calls and what tests call;
 * it returns the exit code instead of exiting. User mistakes print one clear
 * message (no stack trace) and exit 2; environment problems exit 3; failed jobs 1.
 */
import { Command, CommanderError } from 'commander';
import { explainEnvironmentError } from '../aws/clients.js';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { registerCancel } from './commands/cancel.js';
import { registerJobs } from './commands/jobs.js';
import { registerLocal } from './commands/local.js';
import { registerLogs } from './commands/logs.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerWorker } from './commands/worker.js';
import { type Io, processIo } from './io.js';

export const EXIT = { ok: 0, jobFailed: 1, usage: 2, environment: 3, internal: 70 } as const;

export function buildProgram(io: Io): Command {
  const program = new Command('mapreduce')
    .description('Serverless MapReduce on AWS (S3, SQS, DynamoDB, Lambda, Fargate) and on a local emulator.')
    .option('-v, --verbose', 'show more detail, including stack traces')
    .showHelpAfterError('(run with --help for usage and examples)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .addHelpText(
      'after',
      `
Examples:
  $ mapreduce run --input examples/data --output out --mapper examples/wordcount/wc_map.sh --reducer examples/wordcount/wc_reduce.sh
  $ mapreduce local up --workers 4          # a long-running local stack
  $ mapreduce submit --input s3://bkt/in/ --output s3://bkt/out/ --mapper wc.ts --reducer wc.ts --wait
  $ mapreduce status                        # recent jobs; mapreduce status <job> for one`,
    );
  for (const register of [
    registerRun,
    registerSubmit,
    registerLocal,
    registerWorker,
    registerStatus,
    registerJobs,
    registerLogs,
    registerCancel,
  ]) {
    register(program, io);
  }
  return program;
}

/** Run the CLI; returns the process exit code. */
export async function runMain(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return io.exitCode ?? EXIT.ok;
  } catch (raw) {
    if (raw instanceof CommanderError) {
      // Help and version exit 0; unknown options and missing arguments are usage errors.
      return raw.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const err = explainEnvironmentError(raw, process.env.AWS_ENDPOINT_URL);
    const verbose = program.opts().verbose === true;
    if (err instanceof EnvironmentError) {
      io.err(`error: ${err.message}\n`);
      return EXIT.environment;
    }
    if (err instanceof UsageError) {
      io.err(`error: ${err.message}\n`);
      return EXIT.usage;
    }
    io.err(`error: ${(err as Error)?.message ?? String(err)}\n`);
    if (verbose && err instanceof Error && err.stack) io.err(`${err.stack}\n`);
    else io.err('(run with --verbose for details)\n');
    return EXIT.internal;
  }
}
