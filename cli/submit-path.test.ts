/**
 * The order of the submit path's requests (session 16, docs/performance.md): the stack's
 * check (DescribeTable) and the preflight go out together, the stack's problem still comes
 * first; a finished job's output listing goes out beside the wait's last task listing.
 * Mocked SDK clients: what is asserted is which request is in flight when another answers.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { DescribeTableCommand, DynamoDBClient, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../aws/clients.js';
import { EnvironmentError, SubmissionRefusedError } from '../core/errors.js';
import type { JobRecord } from '../core/model.js';
import { localResourceNames } from '../core/resources.js';
import { followJob } from './follow.js';
import { memoryIo } from './io.js';
import type { PreparedJob } from './job-flags.js';
import { preflightBeside } from './job-client.js';
import { openTarget, releaseTargets } from './target.js';

const ddb = mockClient(DynamoDBClient);
const s3 = mockClient(S3Client);
const PREFIX = 'sub16';
const bucket = localResourceNames(PREFIX).bucket;

/** Stands in for the emulator's HTTP answer to `isEndpointUp`'s probe; the SDK's requests are mocked. */
let server: Server;
let endpoint: string;
beforeAll(async () => {
  server = createServer((_req, res) => res.end('up'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
});
afterEach(async () => {
  ddb.reset();
  s3.reset();
  await releaseTargets();
});

const job: PreparedJob = {
  jobId: 'j-sub16',
  manifest: { input: `s3://${bucket}/in/`, output: `s3://${bucket}/out/` },
  uploads: [],
  uploadedInputs: [`s3://${bucket}/in/`],
  localInputFiles: [],
};

/** A promise and its resolver. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}

describe('the stack check beside the preflight', () => {
  it('sends the preflight while the stack check is unanswered, and returns once both pass', async () => {
    const describeAnswer = gate();
    ddb.on(DescribeTableCommand).callsFake(async () => {
      await describeAnswer.promise;
      return { Table: { TableName: localResourceNames(PREFIX).table } };
    });
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 0, Contents: [] });
    const opened = await openTarget({ endpoint, prefix: PREFIX });
    let settled = false;
    const checking = preflightBeside(opened, job).finally(() => (settled = true));
    await expect.poll(() => s3.commandCalls(ListObjectsV2Command).length).toBe(1);
    expect(ddb.commandCalls(DescribeTableCommand)).toHaveLength(1);
    expect(settled).toBe(false); // the stack is not checked yet
    describeAnswer.open();
    expect(await checking).toBe(opened.target);
  });

  it("reports a missing stack first, as when the preflight waited for the check", async () => {
    ddb.on(DescribeTableCommand).rejects(new ResourceNotFoundException({ message: 'no table', $metadata: {} }));
    // The output is taken too: the preflight alone would refuse the job for that.
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 1, Contents: [{ Key: 'out/part-00000', Size: 1 }] });
    const opened = await openTarget({ endpoint, prefix: PREFIX });
    const err = await preflightBeside(opened, job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EnvironmentError);
    expect((err as Error).message).toContain(`no local stack named "${PREFIX}"`);
  });

  it("reports the preflight's refusal once the stack is there", async () => {
    ddb.on(DescribeTableCommand).resolves({ Table: {} });
    s3.on(ListObjectsV2Command).resolves({ KeyCount: 1, Contents: [{ Key: 'out/part-00000', Size: 1 }] });
    const err = await preflightBeside(await openTarget({ endpoint, prefix: PREFIX }), job).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SubmissionRefusedError);
  });
});

describe('the output download of a finished job', () => {
  it("lists and fetches the output while the wait's last task listing is unanswered", async () => {
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
    const docMock = mockClient(doc);
    const client = new S3Client({ region: 'us-east-1' });
    const dir = await mkdtemp(path.join(os.tmpdir(), 'submit-path-'));
    try {
      const record: JobRecord = {
        jobId: job.jobId,
        status: 'SUCCEEDED',
        phase: 'DONE',
        numMaps: 1,
        numReduces: 1,
        mapsCommitted: 1,
        reducesCommitted: 1,
        inputBytes: 4,
        counters: {},
        createdAt: '2026-11-28T03:00:00.000Z',
        updatedAt: '2026-11-28T03:00:01.000Z',
        manifest: { ...job.manifest, numReducers: 1 },
      } as JobRecord;
      docMock.on(GetCommand).resolves({ Item: { pk: `JOB#${job.jobId}`, sk: 'JOB', ...record } });
      const fetched = gate();
      let fetchedBeforeListingAnswered: boolean | undefined;
      docMock.on(QueryCommand).callsFake(async () => {
        // Answered once the output's part is fetched, or after 2 s when it is not fetched meanwhile.
        const answered = await Promise.race([fetched.promise.then(() => true), new Promise((r) => setTimeout(r, 2000, false))]);
        fetchedBeforeListingAnswered ??= answered as boolean;
        return { Items: [] };
      });
      s3.on(ListObjectsV2Command).resolves({ KeyCount: 2, Contents: [{ Key: 'out/_SUCCESS', Size: 0 }, { Key: 'out/part-00000', Size: 4 }] });
      s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
        if (input.Key.endsWith('part-00000')) setImmediate(fetched.open);
        return { Body: Readable.from([Buffer.from(input.Key.endsWith('part-00000') ? 'a\t1\n' : '')]) };
      });
      const target = {
        kind: 'local' as const,
        clients: { doc, s3: client } as unknown as AwsClients,
        names: localResourceNames(PREFIX),
        description: 'test',
      };
      const io = memoryIo();
      const code = await followJob(io, target, { ...job, localOutputDir: dir }, { json: true, targetFlags: '' });
      expect(code).toBe(0);
      expect(fetchedBeforeListingAnswered).toBe(true);
      expect(await readFile(path.join(dir, 'part-00000'), 'utf8')).toBe('a\t1\n');
      expect(io.stdout).toContain('"partFiles":1');
    } finally {
      docMock.restore();
      client.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
