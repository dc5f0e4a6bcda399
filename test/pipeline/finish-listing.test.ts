/**
 * The committer of a job's only reduce task lists the reduce tasks beside its FINALIZING
 * guard (services/phases.ts likelyLastOutput), not after the guard's answer: one round trip
 * less between the last commit and `_SUCCESS`. Observed on the requests of an in-process
 * Worker, against fresh resources.
 */
import { describe, expect, it } from 'vitest';
import { prng, reference, WC_MAP, WC_REDUCE, words } from '../helpers/pipeline.js';
import { useObservedStack } from '../helpers/observed-stack.js';
import { sortedLines } from '../helpers/stack.js';

describe('the finish of a one-reducer job (in-process worker, observed clients)', () => {
  const stack = useObservedStack('f');
  const calls = stack.calls;

  it("the reduce's commit is followed by the task listing, sent before the guard, and the output is right", async () => {
    const rand = prng(37);
    const files = { 'a.txt': Buffer.from(`${Array.from({ length: 80 }, () => words(rand, 5)).join('\n')}\n`) };
    const s = stack.s;
    const { jobId } = await stack.submitShellWordCount(files, { numReducers: 1, numMappers: 2 }, 'finish');
    const job = await stack.runWorkerUntilDone(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const part = Buffer.from(await s.blobs.getText(s.names.bucket, 'out/part-00000'), 'utf8');
    expect(sortedLines([part])).toEqual(sortedLines(reference(files, WC_MAP, WC_REDUCE)));

    // The reduce output PUT, then its commit; after it the listing (a Query) goes out before
    // the guard (the UpdateItem setting FINALIZING), and no second listing follows the guard
    // (heartbeat writes may fall in between).
    const put = calls.findIndex((c) => c.operation === 'PutObject' && c.key?.startsWith(`tmp/${jobId}/out/`));
    expect(put).toBeGreaterThanOrEqual(0);
    const commit = calls.findIndex((c, i) => i > put && c.operation === 'TransactWriteItems');
    const copy = calls.findIndex((c, i) => i > commit && c.operation === 'CopyObject');
    expect(commit).toBeGreaterThan(put);
    expect(copy).toBeGreaterThan(commit);
    const after = calls.slice(commit + 1, copy);
    const guard = after.findIndex((c) => c.operation === 'UpdateItem' && c.update?.includes('#phase = :fin'));
    const listings = after.flatMap((c, i) => (c.operation === 'Query' ? [i] : []));
    expect(guard).toBeGreaterThanOrEqual(0);
    expect(listings).toHaveLength(1);
    expect(listings[0]).toBeLessThan(guard);
  });
});
