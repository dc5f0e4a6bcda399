/**
 * Long-lived workers remove a job's shipped files and scratch directory once the job has
 * ended (worker/attempt-dir.ts FileCache.dropEnded), so they do not fill their disks.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob, WC_MAP, WC_REDUCE } from '../helpers/pipeline.js';
import { TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

describe('scratch cleanup', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('workers delete the files of a job that ended, and keep working', async () => {
    const scratch = path.join(t.dir, 'scratch');
    const files = { 'a.txt': Buffer.from('a b a\n'), 'b.txt': Buffer.from('b c\n') };
    const spec = { files, mapper: `./${path.basename(WC_MAP)}`, reducer: `./${path.basename(WC_REDUCE)}`, ship: [WC_MAP, WC_REDUCE] };
    const first = await runJob(t, { name: 'cleanup-1', ...spec });
    expect(Buffer.concat(first.parts).toString()).toContain('a\t2');
    expect(existsSync(scratch)).toBe(true);
    // Both workers look every three leases (3 s with the test timings) when idle.
    await waitFor(`the files of ${first.jobId} to be removed`, () => !existsSync(path.join(scratch, first.jobId)), {
      timeoutMs: 30_000,
      intervalMs: 250,
    }).catch(() => undefined);
    expect(readdirSync(scratch)).not.toContain(first.jobId);
    // A worker that dropped a job's files still runs the next job that ships files of the same name.
    const second = await runJob(t, { name: 'cleanup-2', ...spec });
    expect(Buffer.concat(second.parts).toString()).toContain('a\t2');
  });
});
