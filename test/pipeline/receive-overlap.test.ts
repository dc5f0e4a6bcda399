/**
 * A worker's next receive goes out with its commit (worker/task-runner.ts
 * handOverAfterCommit): between two tasks the receive's round trip overlaps the commit's
 * instead of following it. Observed on the requests of an in-process Worker (worker child
 * processes could not be observed), against fresh resources.
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

describe('the next receive goes out with the commit (in-process worker, observed clients)', () => {
  const calls: Array<{ operation: string; key?: string }> = [];
  let clients: AwsClients;
  let s: Services;
  let scratch: string;
  let worker: Worker | undefined;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), 'mr-overlap-'));
    clients = createClients({
      endpoint: ENDPOINT,
      region: 'us-east-1',
      observer: (service, operation, input) => {
        const key = (input as { Key?: unknown } | undefined)?.Key;
        calls.push({ operation, key: service === 's3' && typeof key === 'string' ? key : undefined });
      },
    });
    const names = localResourceNames(`o-${randomBytes(5).toString('hex')}`);
    await bootstrapLocalStack(clients, names);
    s = createServices(clients, names, FAST_TIMINGS);
  });
  afterAll(async () => {
    await worker?.stop();
    if (clients) destroyClients(clients);
    rmSync(scratch, { recursive: true, force: true });
  });

  it("after each map's output PUT, a receive is sent before that task's message is deleted", async () => {
    const rand = prng(31);
    const files = { 'a.txt': Buffer.from(`${Array.from({ length: 120 }, () => words(rand, 6)).join('\n')}\n`) };
    const bucket = s.names.bucket;
    await s.blobs.putBytes(bucket, 'in/a.txt', files['a.txt']);
    await s.blobs.putFile(bucket, 'code/wc_map.sh', WC_MAP);
    await s.blobs.putFile(bucket, 'code/wc_reduce.sh', WC_REDUCE);
    const manifest: ManifestInput = {
      input: `s3://${bucket}/in/`,
      output: `s3://${bucket}/out/`,
      mapper: 'wc_map.sh',
      reducer: 'wc_reduce.sh',
      files: [`s3://${bucket}/code/wc_map.sh`, `s3://${bucket}/code/wc_reduce.sh`],
      numReducers: 2,
      numMappers: 4,
    };
    const jobId = `overlap-${randomBytes(3).toString('hex')}`;
    await s.blobs.putBytes(bucket, manifestKey(jobId), JSON.stringify(manifest));
    expect(await handleUpload(s, bucket, manifestKey(jobId))).toMatchObject({ outcome: 'created', numMaps: 4 });
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
