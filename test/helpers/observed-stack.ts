/**
 * An in-process stack on the emulator whose AWS clients record every call: a private
 * namespace, services, a scratch directory, the example shell word count submitted as an
 * S3 trigger would, and one in-process worker run until the job ends. For tests that
 * assert on the calls a worker makes (S3 PUTs per attempt, the receive's timing).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { manifestKey } from '../../core/layout.js';
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord } from '../../core/model.js';
import { localResourceNames } from '../../core/resources.js';
import { bootstrapLocalStack } from '../../local/bootstrap.js';
import { createServices, type Services } from '../../services/context.js';
import { handleUpload, type SubmissionOutcome } from '../../services/coordinator.js';
import { Worker } from '../../worker/worker.js';
import { WC_MAP, WC_REDUCE } from './pipeline.js';
import { ENDPOINT, FAST_TIMINGS } from './stack.js';
import { waitFor } from './wait.js';

/** One AWS call as the clients' observer saw it (`key`: an S3 call's object key; `update`: a DynamoDB UpdateItem's expression). */
export interface ObservedCall {
  readonly service: string;
  readonly operation: string;
  readonly key?: string;
  readonly update?: string;
}

export interface ObservedStack {
  /** Every call made through the stack's clients, in order. */
  readonly calls: ObservedCall[];
  readonly s: Services;
  /** Upload `files` under in/ and the shell word count's scripts, then submit the manifest (with `extra`) as an S3 trigger would. */
  submitShellWordCount(files: Record<string, Buffer>, extra: Partial<ManifestInput>, tag: string): Promise<{ jobId: string; outcome: SubmissionOutcome }>;
  /** Run one in-process worker until the job ends (120 s at most); its record. */
  runWorkerUntilDone(jobId: string): Promise<JobRecord>;
}

/** Set the stack up before the file's tests (namespace prefix `tag`) and tear it down after. */
export function useObservedStack(tag: string): ObservedStack {
  const calls: ObservedCall[] = [];
  let clients: AwsClients | undefined;
  let services: Services | undefined;
  let scratch = '';
  let worker: Worker | undefined;
  beforeAll(async () => {
    scratch = mkdtempSync(path.join(os.tmpdir(), `mr-${tag}-`));
    clients = createClients({
      endpoint: ENDPOINT,
      region: 'us-east-1',
      observer: (service, operation, input) => {
        const { Key: key, UpdateExpression: update } = (input ?? {}) as { Key?: unknown; UpdateExpression?: unknown };
        calls.push({ service, operation, key: service === 's3' && typeof key === 'string' ? key : undefined, ...(typeof update === 'string' ? { update } : {}) });
      },
    });
    const names = localResourceNames(`${tag}-${randomBytes(5).toString('hex')}`);
    await bootstrapLocalStack(clients, names);
    services = createServices(clients, names, FAST_TIMINGS);
  });
  afterAll(async () => {
    await worker?.stop();
    if (clients) destroyClients(clients);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  });
  return {
    calls,
    get s(): Services {
      if (!services) throw new Error('useObservedStack: the stack is not set up yet');
      return services;
    },
    async submitShellWordCount(files, extra, jobTag) {
      const s = this.s;
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
        ...extra,
      };
      const jobId = `${jobTag}-${randomBytes(3).toString('hex')}`;
      await s.blobs.putBytes(bucket, manifestKey(jobId), JSON.stringify(manifest));
      return { jobId, outcome: await handleUpload(s, bucket, manifestKey(jobId)) };
    },
    async runWorkerUntilDone(jobId) {
      const s = this.s;
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
      return job;
    },
  };
}
