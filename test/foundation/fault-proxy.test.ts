/**
 * The fault proxy itself, with the project's real SDK clients against the emulator: the
 * SDK reads its error answers as the AWS errors they imitate (and retries them), a body
 * cut mid-way is an error and never a short object, and a black-holed request ends in the
 * client's timeout. Without this, the net-faults test could pass on faults the SDK never saw.
 */
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { isolatedNamespace, type Namespace } from '../helpers/emulators.js';
import { FaultProxy } from '../helpers/fault-proxy.js';
import { ENDPOINT } from '../helpers/stack.js';

/** The error a call that must fail threw (fails the test if it succeeded). */
async function failure<E = object>(call: Promise<unknown>): Promise<Error & E> {
  try {
    await call;
  } catch (err) {
    return err as Error & E;
  }
  throw new Error('the call succeeded through a proxy that fails every request');
}

describe('the fault proxy, seen by the SDK', () => {
  let ns: Namespace;
  let proxy: FaultProxy;
  let c: AwsClients;
  const key = 'proxy/object.txt';
  const body = Buffer.alloc(64 * 1024, 'x');

  beforeAll(async () => {
    ns = await isolatedNamespace(ENDPOINT);
    await ns.clients.s3.send(new PutObjectCommand({ Bucket: ns.names.bucket, Key: key, Body: body }));
    proxy = await FaultProxy.start({ target: ENDPOINT, seed: 3, maxLifetimeMs: 120_000 });
    c = createClients({ endpoint: proxy.endpoint, region: 'us-east-1', requestTimeoutMs: 1000 }, { MR_AWS_MAX_ATTEMPTS: '2' });
  });
  afterAll(async () => {
    destroyClients(c);
    ns?.close();
    await proxy?.close();
  });

  it('forwards requests unchanged when no fault is drawn', async () => {
    const got = await c.s3.send(new GetObjectCommand({ Bucket: ns.names.bucket, Key: key }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(body)).toBe(true);
    expect(proxy.counts.forwarded).toBeGreaterThan(0);
  });

  it('error answers are read as the AWS errors of each service and retried', async () => {
    proxy.setRates({ error: 1 });
    const s3 = await failure<{ $metadata: { attempts: number } }>(c.s3.send(new GetObjectCommand({ Bucket: ns.names.bucket, Key: key })));
    expect(['SlowDown', 'InternalError']).toContain(s3.name);
    expect(s3.$metadata.attempts).toBe(2);
    const ddb = await failure(c.ddb.send(new DescribeTableCommand({ TableName: ns.names.table })));
    expect(['ProvisionedThroughputExceededException', 'ThrottlingException']).toContain(ddb.name);
    const sqs = await failure<{ $metadata: { httpStatusCode: number } }>(c.sqs.send(new GetQueueUrlCommand({ QueueName: ns.names.tasksQueue })));
    expect(sqs.$metadata.httpStatusCode).toBe(503);
    expect(proxy.counts.error).toBe(6);
  });

  it('a body reset mid-way fails the read; it is never taken as a shorter object', async () => {
    proxy.setRates({ resetMidBody: 1 });
    const read = async () => {
      const got = await c.s3.send(new GetObjectCommand({ Bucket: ns.names.bucket, Key: key }));
      return got.Body!.transformToByteArray();
    };
    await expect(read()).rejects.toThrow();
    expect(proxy.counts.resetMidBody).toBeGreaterThan(0);
  });

  it('a black-holed request ends in the client timeout', async () => {
    proxy.setRates({ blackhole: 1 });
    const err = await failure(c.ddb.send(new DescribeTableCommand({ TableName: ns.names.table })));
    expect(err.name).toBe('TimeoutError');
    expect(proxy.counts.blackhole).toBe(2);
  });
});
