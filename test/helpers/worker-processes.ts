/**
 * The worker processes of a TestStack: find the one running a task (its worker id holds
 * its pid) and signal exactly that process.
 */
import type { ChildProcess } from 'node:child_process';
import type { TaskItem } from '../../aws/task-store.js';
import type { TaskKind } from '../../core/model.js';
import type { TestStack } from './stack.js';
import { waitFor } from './wait.js';

/** The pid inside a worker id `${hostname}-${pid}-${hex}` (worker/worker.ts newWorkerId). */
export function workerPidOf(workerId: string): number {
  const parts = workerId.split('-');
  const pid = Number(parts[parts.length - 2]);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`No pid in worker id ${workerId}`);
  return pid;
}

/** The worker child process of this stack with that worker id (never any other process). */
export function workerProcess(t: TestStack, workerId: string): ChildProcess {
  const pid = workerPidOf(workerId);
  const child = t.stack.workerProcesses.find((c) => c.pid === pid);
  if (!child) throw new Error(`Worker ${workerId} (pid ${pid}) is not a worker process of this stack`);
  return child;
}

/** Send `signal` to the worker process that owns the given worker id; returns the child. */
export function signalWorker(t: TestStack, workerId: string, signal: NodeJS.Signals): ChildProcess {
  const child = workerProcess(t, workerId);
  if (child.exitCode !== null || child.signalCode !== null) throw new Error(`Worker ${workerId} already exited`);
  if (!child.kill(signal)) throw new Error(`Could not send ${signal} to worker ${workerId}`);
  return child;
}

/** Resolves when the child process has exited (or at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Wait until a task of `kind` of the job has been RUNNING for at least `minRunningMs`
 * (so its attempt is in the middle of its work). Returns the task record.
 */
export async function waitForRunningTask(
  t: TestStack,
  jobId: string,
  kind: TaskKind,
  minRunningMs = 300,
  timeoutMs = 60_000,
): Promise<TaskItem & { owner: string }> {
  return waitFor(
    `a ${kind} task of ${jobId} running for ${minRunningMs} ms`,
    async () => {
      const now = Date.now();
      // The task item names its owner (the worker id holds the pid); the worker item
      // reports its running task only every few beats, so it is not waited for.
      const running = (await t.s.tasks.list(jobId, kind)).filter(
        (x) => x.status === 'RUNNING' && x.owner && (x.claimedAt ?? now) <= now - minRunningMs,
      );
      return running[0] as (TaskItem & { owner: string }) | undefined;
    },
    { timeoutMs, intervalMs: 50 },
  );
}
