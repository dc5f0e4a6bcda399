/**
 * A committed attempt's working directory is removed after the task is handed back to the
 * worker loop, with the message delete and the phase change (worker/task-commit.ts commit):
 * a map's dir holds its local output file, whose unlink would otherwise delay the next
 * claim. Exactly-once is the commit's: the removal only cleans up. Runs the real task runner
 * in-process on the emulator, with a FileCache whose removal waits for the test.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FileCache } from '../../worker/attempt-dir.js';
import { Heartbeat } from '../../worker/heartbeat.js';
import { handleTaskMessage } from '../../worker/task-runner.js';
import { useObservedStack } from '../helpers/observed-stack.js';
import { prng, words } from '../helpers/pipeline.js';

/** A FileCache whose attempt-dir removals wait until `release()`. */
class GatedFileCache extends FileCache {
  readonly removals: string[] = [];
  private open: () => void = () => {};
  private readonly gate = new Promise<void>((resolve) => (this.open = resolve));

  override async removeAttemptDir(dir: string): Promise<void> {
    this.removals.push(dir);
    await this.gate;
    await super.removeAttemptDir(dir);
  }

  release(): void {
    this.open();
  }
}

describe("a committed attempt's dir is removed beside what follows the commit", () => {
  const stack = useObservedStack('ad');

  it('the runner returns before the removal ends; the handed-over work waits for it', async () => {
    const s = stack.s;
    const rand = prng(7);
    const files = { 'a.txt': Buffer.from(`${Array.from({ length: 50 }, () => words(rand, 5)).join('\n')}\n`) };
    const { jobId, outcome } = await stack.submitShellWordCount(files, { numReducers: 1, numMappers: 1 }, 'handover');
    expect(outcome).toMatchObject({ outcome: 'created', numMaps: 1 });

    const workerId = `w-${jobId}`;
    const scratch = path.join(os.tmpdir(), `mr-ad-${jobId}`);
    const filesCache = new GatedFileCache(s.blobs, scratch);
    const heartbeat = new Heartbeat(s, workerId);
    const shutdown = new AbortController();
    const handedOver: Promise<void>[] = [];
    heartbeat.start();
    try {
      const msg = await s.taskQueue.receiveOne(5);
      expect(msg).toBeDefined();
      await handleTaskMessage(
        {
          s,
          workerId,
          heartbeat,
          files: filesCache,
          settings: { sortBufferBytes: 1 << 20, scratchDir: scratch },
          shutdown: shutdown.signal,
          committed: (after) => handedOver.push(after),
        },
        msg!,
      );
      const task = await s.tasks.get(jobId, 'm-00000');
      expect(task?.status).toBe('COMMITTED');
      // The runner is done with the task while the dir's removal is still held.
      expect(filesCache.removals).toHaveLength(1);
      const dir = filesCache.removals[0]!;
      expect(existsSync(dir)).toBe(true);
      expect(handedOver).toHaveLength(1);
      let settled = false;
      void handedOver[0]!.then(() => (settled = true));
      await new Promise((r) => setTimeout(r, 200));
      expect(settled).toBe(false); // what the loop awaits at stop includes the removal
      filesCache.release();
      await handedOver[0];
      expect(existsSync(dir)).toBe(false);
    } finally {
      filesCache.release();
      shutdown.abort();
      await heartbeat.stop();
      await s.workers.remove(workerId);
      await filesCache.dropJob(jobId);
    }
  });
});
