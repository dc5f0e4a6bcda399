/**
 * Submission checks, limits and triggers at process level: a real `mapreduce local up`
 * stack (unique prefix), with manifests and batches uploaded straight to S3 through
 * the SDK, the way users without the CLI start jobs.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectInfo } from '../../aws/blob-store.js';
import { manifestKey } from '../../core/layout.js';
import { cli, cliEnv, Scratch } from '../helpers/cli.js';
import { LocalUp, StackAccess, uniquePrefix } from '../helpers/local-up.js';

const PREFIX = uniquePrefix('submission');
let s: Scratch;
let env: NodeJS.ProcessEnv;
let up: LocalUp;
let access: StackAccess;

const mr = (...args: string[]) => cli([...args, '--prefix', PREFIX], env, { cwd: s.dir });
const id = (name: string) => `${name}-${randomBytes(3).toString('hex')}`;
const keysUnder = async (prefix: string) => (await access.blobs.list(access.bucket, prefix)).map((o: ObjectInfo) => o.key).sort();

beforeAll(async () => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  up = await LocalUp.start(PREFIX, env, 1);
  access = new StackAccess(PREFIX);
  await access.blobs.putBytes(access.bucket, 'data/in/a.txt', 'some input\n');
});

afterAll(async () => {
  access?.close();
  try {
    if (up) expect((await up.stop()).code).toBe(0);
  } finally {
    s?.remove();
  }
});

describe('a manifest uploaded straight to S3 meets the same checks as the CLI', () => {
  it('an output under incoming/, under jobs/<other>/, or inside its own input is refused on the job record; nothing is written there', async () => {
    const other = id('other');
    await access.blobs.putBytes(access.bucket, `jobs/${other}/output/part-00000`, 'precious\n');
    const input = `s3://${access.bucket}/data/in/`;
    const cases: [string, string, RegExp][] = [
      ['incoming', `s3://${access.bucket}/incoming/p/b/`, /is inside the framework's own area of the job bucket/],
      ['other-job', `s3://${access.bucket}/jobs/${other}/output/`, /is inside the framework's own area of the job bucket/],
      ['inside-input', `s3://${access.bucket}/data/in/out/`, /is inside the input/],
      ['equal-input', input, /is the same place as the input/],
    ];
    const before = await Promise.all(['incoming/', `jobs/${other}/`, 'data/in/'].map(keysUnder));
    const ids = cases.map(([name]) => id(`refused-${name}`));
    for (const [i, [, output]] of cases.entries()) {
      // overwrite: true, so the only thing that stops the job is the location rule.
      const manifest = { input, output, mapper: 'cat', overwrite: true };
      await access.blobs.putBytes(access.bucket, manifestKey(ids[i]!), JSON.stringify(manifest));
    }
    for (const [i, [name, , reason]] of cases.entries()) {
      const job = await access.finishedJob(ids[i]!);
      expect(job.status, name).toBe('FAILED');
      expect(job.reason, name).toMatch(reason);
      expect(job.numMaps, name).toBe(0);
      expect(await access.tasks.list(ids[i]!), name).toEqual([]);
    }
    const after = await Promise.all(['incoming/', `jobs/${other}/`, 'data/in/'].map(keysUnder));
    expect(after).toEqual(before);
    expect(await access.readText(`jobs/${other}/output/part-00000`)).toBe('precious\n');
    const failed = await mr('jobs', '--status', 'failed');
    for (const jobId of ids) expect(failed.stdout).toMatch(new RegExp(`^${jobId} .* FAILED `, 'm'));
  });
});
