/**
 * Total-order split points too big for the job record (issue 13): with long keys and
 * many reducers the coordinator stores the points in S3 and the record names the object
 * (splitPointsKey, no splitPoints); the map tasks route by them, and the concatenated
 * parts equal `LC_ALL=C sort` of the input byte for byte, in part order.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { splitPointsKey } from '../../core/layout.js';
import { INLINE_SPLIT_POINT_BYTES } from '../../services/total-order-sampler.js';
import { finishJob, prng, startJob } from '../helpers/pipeline.js';
import { TestStack } from '../helpers/stack.js';

const R = 12;
/** Keys this long make R−1 points several times the inline limit. */
const KEY_BYTES = 4096;

describe('total-order split points in S3', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it(`${R} reducers over ${KEY_BYTES}-byte keys: the points go to S3, the parts are sorted and equal LC_ALL=C sort`, async () => {
    expect((R - 1) * KEY_BYTES).toBeGreaterThan(2 * INLINE_SPLIT_POINT_BYTES);
    const rand = prng(71);
    // Keys share a long prefix, so the order is decided near their ends (routing must compare whole keys).
    const prefix = 'p'.repeat(KEY_BYTES - 12);
    const files: Record<string, Buffer> = {};
    const all: string[] = [];
    for (let f = 0; f < 3; f++) {
      const lines = Array.from({ length: 150 }, (_, i) => `${prefix}${Math.floor(rand() * 1e12).toString(36).padStart(12, '0')}\tv${f}.${i}`);
      all.push(...lines);
      files[`in-${f}.tsv`] = Buffer.from(`${lines.join('\n')}\n`);
    }
    const started = await startJob(t, {
      name: 'longkeys',
      files,
      mapper: 'cat',
      reducer: 'cat',
      extra: { numReducers: R, numMappers: 6, jobconf: { 'mapreduce.job.partitioner.class': 'TotalOrderPartitioner', 'mapreduce.task.files.preserve.filepattern': '.*' } },
    });
    const run = await finishJob(t, started, 170_000);
    expect(run.job.splitPoints).toBeUndefined();
    expect(run.job.splitPointsKey).toBe(splitPointsKey(started.jobId));
    const stored = JSON.parse(await t.blobs.getText(t.bucket, splitPointsKey(started.jobId))) as string[];
    expect(stored.length).toBeGreaterThanOrEqual(R - 2);
    expect(stored.every((p) => p.length === KEY_BYTES)).toBe(true);
    expect(run.parts).toHaveLength(R);
    const input = Buffer.from(`${all.join('\n')}\n`);
    const sorted = execFileSync('sort', [], { input, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 26 });
    expect(Buffer.concat(run.parts).equals(sorted)).toBe(true);
    // The points spread the records: most parts hold some.
    expect(run.parts.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(R - 3);
  });
});
