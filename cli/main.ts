/**
 * `mapreduce`: the CLI. `runMain(argv)` is what the bin calls and what tests call;
 * it returns the exit code instead of exiting. User mistakes print one clear
 * message (no stack trace) and exit 2; environment problems exit 3; failed jobs 1.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { EnvironmentError, UsageError } from '../core/errors.js';
import { registerCancel } from './commands/cancel.js';
import { registerJobs } from './commands/jobs.js';
import { registerLocal } from './commands/local.js';
import { registerLogs } from './commands/logs.js';
import { registerReport } from './commands/report.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerSubmit } from './commands/submit.js';
import { registerWorker } from './commands/worker.js';
import { type Io, processIo } from './io.js';
import { releaseTargets } from './target.js';

const EXIT = { ok: 0, jobFailed: 1, usage: 2, environment: 3, internal: 70, interrupted: 130 } as const;

/** The package version, from the package.json above this file (source or dist/). */
function version(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    return (JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function buildProgram(io: Io): Command {
  const program = new Command('mapreduce')
    .description('Serverless MapReduce on AWS (S3, SQS, DynamoDB, Lambda, Fargate) and on a local emulator.')
    .option('-v, --verbose', 'more output: coordinator/checker logs, where worker logs are, stack traces')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage and examples)')
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .addHelpText(
      'after',
      `
Examples:
  $ mapreduce run -i examples/data -o out -m examples/wordcount/wc_map.sh -r examples/wordcount/wc_reduce.sh
  $ mapreduce local up --workers 4          # a long-running local stack
  $ mapreduce submit -i data/ -o s3://mapreduce-local-jobs/out/wc/ -m wc_map.sh -r wc_reduce.sh --wait
  $ mapreduce status                        # recent jobs; mapreduce status <job> for one
  $ mapreduce logs <job> --task m-00000     # stderr of a task's attempts
  $ mapreduce report <job> --open           # HTML report: timeline, durations, counters, cost
  $ mapreduce cancel <job>

Exit codes: 0 success, 1 job FAILED or CANCELLED, 2 usage error (bad flag, path,
URI or manifest), 3 environment (no local stack, no AWS credentials or region),
130 interrupted. Run \`mapreduce <command> --help\` for a command's options.`,
    );
  for (const register of [
    registerRun,
    registerSubmit,
    registerStatus,
    registerJobs,
    registerLogs,
    registerReport,
    registerCancel,
    registerLocal,
    registerWorker,
  ]) {
    register(program, io);
  }
  return program;
}

/** Run the CLI; returns the process exit code. */
export async function runMain(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const program = buildProgram(io);
  const json = argv.includes('--json');
  const fail = (code: number, err: Error) => {
    io.err(`error: ${err.message}\n`);
    if (json) io.out(`${JSON.stringify({ event: 'error', error: err.name, message: err.message, exitCode: code })}\n`);
    return code;
  };
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return io.exitCode ?? EXIT.ok;
  } catch (raw) {
    if (raw instanceof CommanderError) {
      // Help and version exit 0; unknown options and missing arguments are usage errors.
      return raw.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    // Connection and credential failures become an actionable EnvironmentError (the SDK is loaded by now).
    const { explainEnvironmentError } = await import('../aws/clients.js');
    const err = explainEnvironmentError(raw, process.env.AWS_ENDPOINT_URL);
    const verbose = program.opts().verbose === true;
    if (err instanceof EnvironmentError) return fail(EXIT.environment, err);
    if (err instanceof UsageError) return fail(EXIT.usage, err);
    const e = err instanceof Error ? err : new Error(String(err));
    fail(EXIT.internal, e);
    if (verbose && e.stack) io.err(`${e.stack}\n`);
    else io.err('(an unexpected error: run with --verbose for details)\n');
    return EXIT.internal;
  } finally {
    await releaseTargets();
  }
}
