/**
 * Exactly one intermediate S3 PUT per map attempt, counted on the requests themselves:
 * the coordinator and a Worker run IN this process on clients with a call observer
 * (worker child processes could not be observed), against their own fresh resources.
 */
import { describe, expect, it } from 'vitest';
import { prng, reference, WC_MAP, WC_REDUCE, words } from '../helpers/pipeline.js';
import { useObservedStack } from '../helpers/observed-stack.js';
import { sortedLines } from '../helpers/stack.js';

describe('S3 PUTs per map attempt (in-process worker, observed clients)', () => {
  const stack = useObservedStack('p');
  const calls = stack.calls;

  it('each map attempt makes exactly one PutObject under tmp/<job>/map/, the key its task commits', async () => {
    const rand = prng(30);
    const files = {
      'a.txt': Buffer.from(`${Array.from({ length: 80 }, () => words(rand, 6)).join('\n')}\n`),
      'b.txt': Buffer.from(`${Array.from({ length: 40 }, () => words(rand, 3)).join('\n')}\n`),
    };
    const s = stack.s;
    const bucket = s.names.bucket;
    // The coordinator, as the submissions poller would call it for the S3 notification.
    const { jobId, outcome } = await stack.submitShellWordCount(files, { numReducers: 3, splitSize: 500 }, 'puts');
    expect(outcome).toMatchObject({ outcome: 'created', jobId });
    const numMaps = (outcome as { numMaps: number }).numMaps;
    const expectedMaps = Object.values(files).reduce((n, b) => n + Math.ceil(b.length / 500), 0);
    expect(numMaps).toBe(expectedMaps);

    const mapPrefix = `tmp/${jobId}/map/`;
    expect(calls.filter((c) => c.key?.startsWith(mapPrefix))).toHaveLength(0);
    const job = await stack.runWorkerUntilDone(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');

    const tasks = await s.tasks.list(jobId, 'map');
    const attempts = tasks.reduce((n, t) => n + t.attempt, 0);
    const mapPuts = calls.filter((c) => c.service === 's3' && c.operation === 'PutObject' && c.key?.startsWith(mapPrefix));
    // One PUT per attempt, and with no failures one attempt per task.
    expect(mapPuts).toHaveLength(attempts);
    expect(attempts).toBe(numMaps);
    expect(new Set(mapPuts.map((c) => c.key)).size).toBe(mapPuts.length);
    expect(mapPuts.map((c) => c.key).sort()).toEqual(tasks.map((t) => t.output?.key).sort());
    // No other kind of write (multipart, copy) into the intermediate area either.
    const otherWrites = calls.filter(
      (c) => c.key?.startsWith(mapPrefix) && !['PutObject', 'GetObject', 'HeadObject'].includes(c.operation),
    );
    expect(otherWrites).toEqual([]);

    const parts = await Promise.all(
      [0, 1, 2].map(async (i) => Buffer.from(await s.blobs.getText(bucket, `out/part-0000${i}`), 'utf8')),
    );
    expect(sortedLines(parts)).toEqual(sortedLines(reference(files, WC_MAP, WC_REDUCE)));
  });
});
