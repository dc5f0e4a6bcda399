/**
 * `mapreduce run`: the embedded one-shot. Uses the running `local up` stack, or
 * starts a local stack (emulator included) for this job and stops it afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { timingsFromEnv } from '../../core/config.js';
import { newJobId } from '../../core/model.js';
import { localResourceNames } from '../../core/resources.js';
import { LocalStack } from '../../services/local-stack.js';
import type { Io } from '../io.js';
import { downloadOutput, uploadJob, waitForJob } from '../job-client.js';
import { addJobOptions, jobFlags, positiveInt } from '../job-options.js';
import { JobPackager } from '../job-spec.js';
import { readLocalState } from '../local-state.js';
import { reportFinished } from '../report.js';
import { addTargetOptions, localEndpoint, localPrefix, resolveTarget, type Target } from '../target.js';

export function registerRun(program: Command, io: Io): void {
  const cmd = program
    .command('run')
    .description('Run a job on the local stack and wait for it (starts a local stack when none is running)');
  addTargetOptions(addJobOptions(cmd))
    .option('-w, --workers <n>', 'worker processes when this command starts the stack (default 2)', positiveInt('--workers'))
    .addHelpText(
      'after',
      `
Examples:
  $ mapreduce run -i examples/data -o out -m examples/wordcount/wc_map.sh -r examples/wordcount/wc_reduce.sh -R 2
  $ mapreduce run -i examples/data -o out -m examples/wordcount/wordcount.ts -c examples/wordcount/wordcount.ts -r examples/wordcount/wordcount.ts
  $ mapreduce run -i logs/ -o matches -m "grep -i error"          # map-only grep`,
    )
    .action(async (o: Record<string, unknown>) => {
      const prefix = localPrefix(o);
      const endpoint = localEndpoint(o);
      const jobId = newJobId();
      // Validate and package before starting anything: a mistake costs nothing.
      const prepared = await new JobPackager(jobId, localResourceNames(prefix).bucket).prepare(jobFlags(o));
      const running = readLocalState(prefix);
      let stack: LocalStack | undefined;
      let target: Target;
      let scratch: string | undefined;
      if (running) {
        target = await resolveTarget({ endpoint: running.endpoint, prefix });
      } else {
        scratch = await mkdtemp(path.join(os.tmpdir(), 'mapreduce-run-'));
        stack = await LocalStack.start({
          endpoint,
          prefix,
          workers: (o.workers as number | undefined) ?? 2,
          timings: timingsFromEnv(),
          startEmulator: true,
          stateDir: scratch,
        });
        target = {
          kind: 'local',
          clients: stack.services.clients,
          names: stack.names,
          description: `embedded local stack at ${endpoint}`,
        };
      }
      try {
        await uploadJob(target, prepared);
        if (!o.json) io.err(`Submitted job ${jobId} to ${target.description}\n`);
        const job = await waitForJob(target, jobId, io, { json: o.json === true });
        const extra: Record<string, unknown> = {};
        if (job.status === 'SUCCEEDED' && prepared.localOutputDir) {
          const files = await downloadOutput(target, job, prepared.localOutputDir);
          extra.output = `${prepared.localOutputDir} (${files.filter((f) => f.startsWith('part-')).length} part files)`;
        } else if (job.status === 'SUCCEEDED') {
          extra.output = job.manifest.output;
        }
        io.exitCode = reportFinished(io, job, o.json === true, extra);
      } finally {
        await stack?.stop();
        if (scratch) await rm(scratch, { recursive: true, force: true });
      }
    });
}
