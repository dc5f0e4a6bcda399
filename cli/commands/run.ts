/**
 * `mapreduce run`: the embedded one-shot. Uses the running `local up` stack, or
 * starts a local stack (emulator included) for this job and stops it afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { newJobId } from '../../core/model.js';
import { localResourceNames } from '../../core/resources.js';
import type { LocalStack } from '../../local/stack.js';
import type { Io } from '../io.js';
import { addJobOptions, jobFlags, positiveInt } from '../job-options.js';
import { JobPackager } from '../job-spec.js';
import { readLocalState } from '../../local/state.js';
import { stderrLogger } from '../log.js';
import { followJob } from '../follow.js';
import { addTargetOptions, localEndpoint, localPrefix, type OpenedTarget, openTarget, targetFlags } from '../target.js';

export function registerRun(program: Command, io: Io): void {
  const cmd = program
    .command('run')
    .description('Run a job on the local stack and wait for it (starts a local stack when none is running)');
  addTargetOptions(addJobOptions(cmd))
    .option(
      '-w, --workers <n>',
      'worker processes when this command starts the stack (default 2)',
      positiveInt('--workers'),
    )
    .addHelpText(
      'after',
      `
A local --input is read in place by the local stack's workers (a file:// input, nothing
is copied; --upload-input copies it into the job bucket instead), a local --output
directory is filled with part-NNNNN files when the job succeeds. Progress goes to stderr (live bars on a terminal, a plain line
every few seconds otherwise); Ctrl-C cancels the job.

Examples:
  $ mapreduce run -i examples/data -o out -m examples/wordcount/wc_map.sh -r examples/wordcount/wc_reduce.sh -R 2
  $ mapreduce run -i examples/data -o out -m examples/wordcount/wordcount.ts \\
      -c examples/wordcount/wordcount.ts -r examples/wordcount/wordcount.ts
  $ mapreduce run -i logs/ -o matches -m "grep -i error"          # map-only grep
  $ mapreduce run --mrjob examples/mrjob/sensor_readings.py -i readings/ -o out -R 3   # an mrjob job
  $ mapreduce run --mrjob job.py -i data -o out -- --my-option 3  # with the job's own arguments
  $ mapreduce run -i data -o out -m ./map.sh -r ./reduce.sh --json | jq -c 'select(.event == "result")'
  $ mapreduce --verbose run -i data -o out -m ./map.sh             # also coordinator/checker logs`,
    )
    .action(async (o: Record<string, unknown>, cmd: Command) => {
      const stackOption = o.stack as string | undefined;
      if (stackOption) {
        throw new UsageError(
          `\`run\` uses a local stack; to run on the deployed stack use \`mapreduce submit --stack ${stackOption} --wait ...\`.`,
        );
      }
      const verbose = program.opts().verbose === true;
      const json = o.json === true;
      const prefix = localPrefix(o);
      const endpoint = localEndpoint(o);
      const jobId = newJobId();
      const flags = jobFlags(o, cmd.args);
      // Validate and package before starting anything: a mistake costs nothing. Loading the
      // AWS side (~1 s of imports) and finding a running stack have no effect, so they go on
      // while the modules are bundled (esbuild works in its own process).
      const packaging = new JobPackager(jobId, localResourceNames(prefix).bucket).prepare(flags, {
        localFiles: !flags.uploadInput,
      });
      const running = readLocalState(prefix);
      // The stack launcher (its bootstrap, the coordinator and checker services) is loaded
      // only when this command starts the stack: with `local up` running it is dead weight.
      const loading = Promise.all([
        running ? undefined : import('../../local/stack.js'),
        import('../../core/config.js'),
        import('../job-client.js'),
        import('../../local/emulator.js'),
      ]);
      // The running stack is looked for at once: its check then goes out beside the preflight.
      const runningTarget = running ? openTarget({ endpoint: running.endpoint, prefix }) : undefined;
      // Whichever fails first is reported; the other's rejection is not left unhandled.
      loading.catch(() => {});
      runningTarget?.catch(() => {});
      const prepared = await packaging;
      const [stackModule, { timingsFromEnv }, { preflightBeside, uploadJob }, { isEndpointUp }] = await loading;
      let stack: LocalStack | undefined;
      let opened: OpenedTarget;
      let scratch: string | undefined;
      if (running && runningTarget) {
        opened = await runningTarget;
        if (verbose) io.err(`Using the running local stack "${prefix}"; worker logs: ${running.logDir}\n`);
      } else {
        scratch = await mkdtemp(path.join(os.tmpdir(), 'mapreduce-run-'));
        if (verbose) io.err(`Starting a local stack "${prefix}" at ${endpoint}; worker logs (JSON): ${scratch}\n`);
        const { LocalStack: Launcher } = stackModule ?? (await import('../../local/stack.js'));
        stack = await Launcher.start({
          endpoint,
          prefix,
          workers: (o.workers as number | undefined) ?? 2,
          timings: timingsFromEnv(),
          // A busy emulator can take seconds to answer: probe patiently before starting a second one.
          startEmulator: !(await isEndpointUp(endpoint, 8000)),
          stateDir: scratch,
          ...(verbose ? { log: stderrLogger(io, 'local-stack') } : {}),
        });
        const target = {
          kind: 'local' as const,
          clients: stack.services.clients,
          names: stack.names,
          description: `embedded local stack "${prefix}" at ${endpoint}`,
        };
        opened = { target, checked: Promise.resolve() };
      }
      try {
        const target = await preflightBeside(opened, prepared);
        await uploadJob(target, prepared);
        io.exitCode = await followJob(io, target, prepared, { json, targetFlags: targetFlags(o) });
      } finally {
        await stack?.stop();
        // Keep the worker logs when asked for detail; they are the only copy of an embedded stack's logs.
        if (scratch && !verbose) await rm(scratch, { recursive: true, force: true });
        else if (scratch) io.err(`Worker logs kept in ${scratch}\n`);
      }
    });
}
