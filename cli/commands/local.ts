/**
 * `mapreduce local up|down|status`: a long-running local stack (emulator,
 * coordinator and checker in this process, N worker processes).
 */
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import type { Io } from '../io.js';
import { positiveInt } from '../job-options.js';
import { isAlive, readLocalState, removeLocalState, stateDir, writeLocalState } from '../../local/state.js';
import { stderrLogger } from '../log.js';
import { localEndpoint, localPrefix } from '../target.js';

export function registerLocal(program: Command, io: Io): void {
  const local = program
    .command('local')
    .description('Run a long-lived local stack on the emulator')
    .addHelpText(
      'after',
      `
Examples:
  $ mapreduce local up --workers 4 &     # runs until Ctrl-C or \`mapreduce local down\`
  $ mapreduce submit -i data -o s3://mapreduce-local-jobs/out/ -m wc_map.sh -r wc_reduce.sh --wait
  $ mapreduce local down`,
    );
  local
    .command('up')
    .description(
      'Start the emulator (if needed), the resources, coordinator, checker and workers; runs in the foreground',
    )
    .option('-w, --workers <n>', 'worker processes (default 2)', positiveInt('--workers'))
    .option('--endpoint <url>', 'emulator endpoint (default: AWS_ENDPOINT_URL or http://127.0.0.1:4566)')
    .option('--prefix <name>', 'resource name prefix (default: MR_PREFIX or mapreduce-local)')
    .addHelpText(
      'after',
      `
Prints "Local stack ... is up" when ready. Worker logs (JSON lines) go to
<MR_STATE_DIR or ~/.mapreduce>/local-<prefix>/worker-N.log; with --verbose the
coordinator and checker log to stderr.

Examples:
  $ mapreduce local up                         # 2 workers, prefix mapreduce-local
  $ mapreduce --verbose local up --workers 4 --prefix dev`,
    )
    .action(async (o: Record<string, unknown>) => {
      const prefix = localPrefix(o);
      const existing = readLocalState(prefix);
      if (existing) {
        throw new UsageError(
          `A local stack "${prefix}" is already running (pid ${existing.pid}). ` +
            `Stop it with \`mapreduce local down${o.prefix ? ` --prefix ${prefix}` : ''}\`.`,
        );
      }
      const [{ LocalStack }, { timingsFromEnv }, { isEndpointUp }] = await Promise.all([
        import('../../local/stack.js'),
        import('../../core/config.js'),
        import('../../local/emulator.js'),
      ]);
      const logDir = path.join(stateDir(), `local-${prefix}`);
      const workers = (o.workers as number | undefined) ?? 2;
      const stack = await LocalStack.start({
        endpoint: localEndpoint(o),
        prefix,
        workers,
        timings: timingsFromEnv(),
        // A busy emulator can take seconds to answer: probe patiently before starting a second one.
        startEmulator: !(await isEndpointUp(localEndpoint(o), 8000)),
        stateDir: logDir,
        superviseWorkers: true,
        ...(program.opts().verbose === true ? { log: stderrLogger(io, 'local-stack') } : {}),
      });
      writeLocalState({
        pid: process.pid,
        endpoint: localEndpoint(o),
        prefix,
        workers,
        startedAt: new Date().toISOString(),
        logDir,
      });
      io.out(
        `Local stack "${prefix}" is up at ${localEndpoint(o)} with ${workers} workers.\n` +
          `Job bucket: s3://${stack.names.bucket}/   Worker logs: ${logDir}\n` +
          `Stop it with Ctrl-C or \`mapreduce local down${o.prefix ? ` --prefix ${prefix}` : ''}\`.\n`,
      );
      await new Promise<void>((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      });
      io.out('Stopping the local stack...\n');
      await stack.stop();
      removeLocalState(prefix);
    });
  local
    .command('down')
    .description('Stop the local stack started by `local up`')
    .option('--prefix <name>', 'resource name prefix (default: MR_PREFIX or mapreduce-local)')
    .addHelpText('after', '\nExamples:\n  $ mapreduce local down\n  $ mapreduce local down --prefix dev')
    .action(async (o: Record<string, unknown>) => {
      const prefix = localPrefix(o);
      const state = readLocalState(prefix);
      if (!state) {
        io.out(`No local stack "${prefix}" is running.\n`);
        return;
      }
      process.kill(state.pid, 'SIGTERM');
      const deadline = Date.now() + 40_000;
      while (isAlive(state.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      if (isAlive(state.pid)) throw new Error(`Local stack (pid ${state.pid}) did not stop within 40 s.`);
      removeLocalState(prefix);
      io.out(`Local stack "${prefix}" stopped.\n`);
    });
  local
    .command('status')
    .description('Show whether a local stack is running (exit 1 when not)')
    .option('--prefix <name>', 'resource name prefix (default: MR_PREFIX or mapreduce-local)')
    .addHelpText('after', '\nExamples:\n  $ mapreduce local status\n  $ mapreduce local status --prefix dev')
    .action((o: Record<string, unknown>) => {
      const state = readLocalState(localPrefix(o));
      io.out(state ? `${JSON.stringify(state, null, 2)}\n` : `No local stack "${localPrefix(o)}" is running.\n`);
      if (!state) io.exitCode = 1;
    });
}
