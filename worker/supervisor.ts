/**
 * `mapreduce worker --supervise` (the ECS container's command): runs the worker as a child
 * process and starts a new one at once when it exits with WORKER_RECYCLE_EXIT_CODE (its
 * recycle policy, core/worker-recycle.ts, fired between two tasks). On ECS a container whose
 * main process exits stops its Fargate task, and a new task takes about a minute to start;
 * this keeps the container and replaces only the node process (~0.3 s). Node 22.15's
 * `process.execve` would replace the image in place, but Node 20 has none.
 *
 * It stays small on purpose (no SDK, no logger): its own RSS counts in the container's
 * memory. It forwards SIGTERM/SIGINT to the worker (ECS's init process signals only its own
 * child, this one) and exits with the worker's code. The worker holds an IPC channel to it
 * and stops if it dies (worker/parent-watch.ts). Spawned without a shell.
 */
import { spawn } from 'node:child_process';
import { WATCH_PARENT_ENV } from './parent-watch.js';
import { WORKER_RECYCLE_EXIT_CODE } from '../core/worker-recycle.js';
import { recycledWorkerNodeArgs } from '../core/worker-heap.js';

/** How to start one worker process. */
export interface WorkerCommand {
  readonly execPath: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
}

/** The worker command for this process: the same node, node options and script, without `--supervise`. */
export function workerCommand(env: NodeJS.ProcessEnv = process.env): WorkerCommand {
  return { execPath: process.execPath, args: [...process.execArgv, process.argv[1]!, 'worker'], env };
}

const SIGNAL_EXIT = { SIGTERM: 128 + 15, SIGINT: 128 + 2 } as const;

/** One JSON log line on stdout, like the worker's (which writes there too). */
function log(message: string, extra: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ level: 'INFO', message, service: 'mapreduce-worker-supervisor', timestamp: new Date().toISOString(), ...extra })}\n`);
}

/** Run workers until one exits for another reason than a recycle; resolves with its exit code. */
export async function superviseWorker(cmd: WorkerCommand = workerCommand()): Promise<number> {
  let stopping: NodeJS.Signals | undefined;
  let child: ReturnType<typeof spawn> | undefined;
  const forward = (signal: 'SIGTERM' | 'SIGINT') => {
    stopping ??= signal;
    child?.kill(signal);
  };
  const onTerm = () => forward('SIGTERM');
  const onInt = () => forward('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  let recycles = 0;
  try {
    for (;;) {
      // A replacement gets the young generation's ceiling of a young worker (core/worker-heap.ts); node options go first.
      const args = recycles > 0 ? recycledWorkerNodeArgs(cmd.args) : cmd.args;
      const worker = spawn(cmd.execPath, args, { env: { ...cmd.env, [WATCH_PARENT_ENV]: '1' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child = worker;
      // The channel only tells the worker this process is gone; its messages do not matter.
      worker.channel?.unref();
      const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
        worker.once('error', () => resolve({ code: 1, signal: null }));
        worker.once('exit', (c, s) => resolve({ code: c, signal: s }));
      });
      if (code === WORKER_RECYCLE_EXIT_CODE && !stopping) {
        recycles++;
        log('Worker recycled; starting another', { replaced: worker.pid, recycles });
        continue;
      }
      if (code !== null) return code;
      return signal && signal in SIGNAL_EXIT ? SIGNAL_EXIT[signal as keyof typeof SIGNAL_EXIT] : 1;
    }
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
  }
}
