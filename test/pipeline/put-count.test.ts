/**
 * Exactly one intermediate S3 PUT per map attempt, counted on the requests themselves:
 * the coordinator and a Worker run IN this process on clients with a call observer
 * (worker child processes could not be observed), against their own fresh resources.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { manifestKey } from '../../core/layout.js';
import type { ManifestInput } from '../../core/manifest.js';
import { localResourceNames } from '../../core/resources.js';
import { createServices, type Services } from '../../services/context.js';
import { handleUpload } from '../../services/coordinator.js';
import { Worker } from '../../worker/worker.js';
import { prng, reference, WC_MAP, WC_REDUCE, words } from '../helpers/pipeline.js';
import { ENDPOINT, FAST_TIMINGS, sortedLines } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

interface Call {
  readonly service: string;
  readonly operation: string;
  readonly key?: string;
}

describe('S3 PUTs per map attempt (in-process worker, observed clients)', () => {
  const calls: Call[] = [];
  let clients: AwsClients;
  let s: Services;
  let scratch: string;
  let worker: Worker | undefined;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-puts-'));
    clients = createClients({
      endpoint: ENDPOINT,
      region: 'us-east-1',
      observer: (service, operation, input) => {
        const key = (input as { Key?: unknown } | undefined)?.Key;
        calls.push({ service, operation, key: service === 's3' && typeof key === 'string' ? key : undefined });
      },
    });
    const names = localResourceNames(`p-${randomBytes(5).toString('hex')}`);
    await bootstrapLocalStack(clients, names);
    s = createServices(clients, names, FAST_TIMINGS);
  });
  afterAll(async () => {
    await worker?.stop();
    if (clients) destroyClients(clients);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('each map attempt makes exactly one PutObject under tmp/<job>/map/, the key its task commits', async () => {
    const rand = prng(30);
    const files = {
      'a.txt': Buffer.from(`${Array.from({ length: 80 }, () => words(rand, 6)).join('\n')}\n`),
      'b.txt': Buffer.from(`${Array.from({ length: 40 }, () => words(rand, 3)).join('\n')}\n`),
    };
    const bucket = s.names.bucket;
    for (const [name, body] of Object.entries(files)) await s.blobs.putBytes(bucket, `in/${name}`, body);
    await s.blobs.putFile(bucket, 'code/wc_map.sh', WC_MAP);
    await s.blobs.putFile(bucket, 'code/wc_reduce.sh', WC_REDUCE);
    const manifest: ManifestInput = {
      input: `s3://${bucket}/in/`,
      output: `s3://${bucket}/out/`,
      mapper: 'wc_map.sh',
      reducer: 'wc_reduce.sh',
      files: [`s3://${bucket}/code/wc_map.sh`, `s3://${bucket}/code/wc_reduce.sh`],
      numReducers: 3,
      splitSize: 500,
    };
    const jobId = `puts-${randomBytes(3).toString('hex')}`;
    await s.blobs.putBytes(bucket, manifestKey(jobId), JSON.stringify(manifest));
    // The coordinator, as the submissions poller would call it for the S3 notification.
    const outcome = await handleUpload(s, bucket, manifestKey(jobId));
    expect(outcome).toMatchObject({ outcome: 'created', jobId });
    const numMaps = (outcome as { numMaps: number }).numMaps;
    const expectedMaps = Object.values(files).reduce((n, b) => n + Math.ceil(b.length / 500), 0);
    expect(numMaps).toBe(expectedMaps);

    const mapPrefix = `tmp/${jobId}/map/`;
    expect(calls.filter((c) => c.key?.startsWith(mapPrefix))).toHaveLength(0);
    worker = new Worker(s, { sortBufferBytes: 1 << 20, scratchDir: scratch });
    void worker.run();
    const job = await waitFor(
      'the job to finish',
      async () => {
        const j = await s.jobs.get(jobId);
        return j && ['SUCCEEDED', 'FAILED'].includes(j.status) ? j : undefined;
      },
      { timeoutMs: 120_000 },
    );
    await worker.stop();
    worker = undefined;
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
