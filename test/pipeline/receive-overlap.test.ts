/**
 * A worker's next receive goes out with its commit (worker/task-commit.ts
 * handOverAfterCommit): between two tasks the receive's round trip overlaps the commit's
 * instead of following it. Observed on the requests of an in-process Worker (worker child
 * processes could not be observed), against fresh resources.
 */
import { describe, expect, it } from 'vitest';
import { prng, reference, WC_MAP, WC_REDUCE, words } from '../helpers/pipeline.js';
import { useObservedStack } from '../helpers/observed-stack.js';
import { sortedLines } from '../helpers/stack.js';

describe('the next receive goes out with the commit (in-process worker, observed clients)', () => {
  const stack = useObservedStack('o');
  const calls = stack.calls;

  it("after each map's output PUT, a receive is sent before that task's message is deleted", async () => {
    const rand = prng(31);
    const files = { 'a.txt': Buffer.from(`${Array.from({ length: 120 }, () => words(rand, 6)).join('\n')}\n`) };
    const s = stack.s;
    const bucket = s.names.bucket;
    const { jobId, outcome } = await stack.submitShellWordCount(files, { numReducers: 2, numMappers: 4 }, 'overlap');
    expect(outcome).toMatchObject({ outcome: 'created', numMaps: 4 });
    const job = await stack.runWorkerUntilDone(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const parts = await Promise.all([0, 1].map(async (i) => Buffer.from(await s.blobs.getText(bucket, `out/part-0000${i}`), 'utf8')));
    expect(sortedLines(parts)).toEqual(sortedLines(reference(files, WC_MAP, WC_REDUCE)));

    // Each map's output PUT is followed by its commit, then by its message's delete: the next
    // receive is already out before that delete (without the overlap it followed it).
    const puts = calls.flatMap((c, i) => (c.operation === 'PutObject' && c.key?.startsWith(`tmp/${jobId}/map/`) ? [i] : []));
    expect(puts).toHaveLength(4);
    for (const p of puts) {
      const del = calls.findIndex((c, i) => i > p && c.operation === 'DeleteMessage');
      expect(del).toBeGreaterThan(p);
      const between = calls.slice(p, del).map((c) => c.operation);
      expect(between).toContain('TransactWriteItems');
      expect(between).toContain('ReceiveMessage');
    }
  });
});
