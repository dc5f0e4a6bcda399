/**
 * Run task messages of one job through the real task runner inside the test process, with
 * services the test may have altered (a TaskStore that crashes or loses answers). Messages
 * of other jobs, or that `mine` rejects, are made visible again for the worker processes.
 */
import path from 'node:path';
import type { Services } from '../../services/context.js';
import { parseTaskMessage, type TaskMessage } from '../../services/task-lifecycle.js';
import { FileCache } from '../../worker/attempt-dir.js';
import { Heartbeat } from '../../worker/heartbeat.js';
import { handleTaskMessage } from '../../worker/task-runner.js';

/**
 * Handle messages with `s` as worker `workerId` until `done()` holds (checked between
 * messages) or `timeoutMs` passes (then throws). The worker's heartbeat runs all along and
 * its worker item is removed at the end.
 */
export async function runInProcess(o: {
  readonly s: Services;
  readonly workerId: string;
  readonly scratchDir: string;
  readonly mine: (m: TaskMessage) => boolean;
  readonly done: () => Promise<boolean>;
  readonly timeoutMs?: number;
}): Promise<void> {
  const { s, workerId } = o;
  const heartbeat = new Heartbeat(s, workerId);
  const shutdown = new AbortController();
  const scratch = path.join(o.scratchDir, workerId);
  const deps = {
    s,
    workerId,
    heartbeat,
    files: new FileCache(s.blobs, scratch),
    settings: { sortBufferBytes: 1 << 20, scratchDir: scratch },
    shutdown: shutdown.signal,
  };
  heartbeat.start();
  try {
    const deadline = Date.now() + (o.timeoutMs ?? 60_000);
    while (!(await o.done())) {
      if (Date.now() > deadline) throw new Error(`in-process worker ${workerId} did not finish in time`);
      const msg = await s.taskQueue.receiveOne(1);
      if (!msg) continue;
      const m = parseTaskMessage(msg.body);
      if (!m || !o.mine(m)) {
        await s.taskQueue.setVisibility(msg.receiptHandle, 0); // not ours to run
        continue;
      }
      await handleTaskMessage(deps, msg);
    }
  } finally {
    shutdown.abort();
    await heartbeat.stop();
    await s.workers.remove(workerId);
  }
}
