/**
 * `node dist/scripts/bench/small-requests.js [--endpoint URL] [--n N] [--only TEXT]`: the CPU one request
 * costs, in the emulator and in the client, by kind of request (issue 14, the 16 MiB job's
 * fixed cost: ~65 requests per job). Starts moto on the endpoint with the project's launcher
 * (use a free port: a running emulator is used as is, and its pid found from the port),
 * creates a table, a queue and a bucket, then runs N of each kind one after the other
 * (GetItem, PutItem, conditional UpdateItem; SQS send, receive, delete; S3 PUT, GET and
 * HEAD of a 1 KiB object; a 300 KiB file PUT as a map output's; a 4 MiB ranged GET of a 16 MiB object, a map task's input) and prints, per kind, the emulator's and this process's CPU
 * milliseconds per request (from /proc) and the wall time (`--only`: the kinds whose name
 * contains TEXT). Diagnosis only.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from '@aws-sdk/client-sqs';
import { TransactWriteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { BlobStore } from '../../aws/blob-store.js';
import { createClients, destroyClients } from '../../aws/clients.js';
import { ensureEmulator } from '../../local/emulator.js';
import { pidListeningOn, procCpuSeconds } from './processes.js';

const MIB = 1024 * 1024;

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

async function main(): Promise<void> {
  const endpoint = arg('endpoint', process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566');
  const n = Number(arg('n', '200'));
  const emulator = await ensureEmulator({ endpoint });
  const pid = emulator.started ? emulator.pid : pidListeningOn(Number(new URL(endpoint).port));
  if (!pid) throw new Error(`No process found listening on ${endpoint}.`);
  const c = createClients({ endpoint, region: 'us-east-1' });
  const id = randomBytes(4).toString('hex');
  const TableName = `req-${id}`;
  const Bucket = `req-${id}`;
  await c.ddb.send(
    new CreateTableCommand({
      TableName,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  const QueueUrl = (await c.sqs.send(new CreateQueueCommand({ QueueName: `req-${id}` }))).QueueUrl!;
  await c.s3.send(new CreateBucketCommand({ Bucket }));
  const body = Buffer.alloc(1024, 'x');
  const blobs = new BlobStore(c);
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'small-requests-')), 'out.bin');
  writeFileSync(file, randomBytes(300 * 1024));
  await c.s3.send(new PutObjectCommand({ Bucket, Key: 'big', Body: Buffer.alloc(16 * MIB, 'y') }));
  const kinds: [string, (i: number) => Promise<unknown>][] = [
    ['DynamoDB PutItem', (i) => c.doc.send(new PutCommand({ TableName, Item: { pk: `k${i % 10}`, n: i, s: 'v'.repeat(200) } }))],
    ['DynamoDB GetItem', (i) => c.doc.send(new GetCommand({ TableName, Key: { pk: `k${i % 10}` }, ConsistentRead: true }))],
    [
      'DynamoDB UpdateItem (conditional)',
      (i) =>
        c.doc.send(
          new UpdateCommand({
            TableName,
            Key: { pk: `k${i % 10}` },
            UpdateExpression: 'SET n = :n',
            ConditionExpression: 'attribute_exists(pk)',
            ExpressionAttributeValues: { ':n': i },
          }),
        ),
    ],
    [
      'DynamoDB TransactWriteItems (3 items, as a map commit)',
      (i) =>
        c.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Update: { TableName, Key: { pk: `k${i % 10}` }, UpdateExpression: 'SET n = :n', ConditionExpression: 'attribute_exists(pk)', ExpressionAttributeValues: { ':n': i } } },
              { Update: { TableName, Key: { pk: `j${i % 10}` }, UpdateExpression: 'ADD c :one', ExpressionAttributeValues: { ':one': 1 } } },
              { Put: { TableName, Item: { pk: `o${i}`, s: 'v'.repeat(200) } } },
            ],
          }),
        ),
    ],
    ['SQS SendMessage', (i) => c.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: `m${i}` }))],
    [
      'SQS ReceiveMessage + DeleteMessage (2 requests)',
      async () => {
        const r = await c.sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 1 }));
        const m = r.Messages?.[0];
        if (m) await c.sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: m.ReceiptHandle! }));
      },
    ],
    ['S3 PutObject 1 KiB', (i) => c.s3.send(new PutObjectCommand({ Bucket, Key: `o${i % 10}`, Body: body }))],
    [
      'S3 GetObject 1 KiB',
      async (i) => {
        const r = await c.s3.send(new GetObjectCommand({ Bucket, Key: `o${i % 10}` }));
        await r.Body!.transformToByteArray();
      },
    ],
    ['S3 HeadObject', (i) => c.s3.send(new HeadObjectCommand({ Bucket, Key: `o${i % 10}` }))],
    ['S3 PutObject 300 KiB file (BlobStore.putFile, as a map output)', (i) => blobs.putFile(Bucket, `f${i % 10}`, file)],
    [
      'S3 GetObject 4 MiB range of 16 MiB',
      async (i) => {
        const start = (i % 4) * 4 * MIB;
        const r = await c.s3.send(new GetObjectCommand({ Bucket, Key: 'big', Range: `bytes=${start}-${start + 4 * MIB - 1}` }));
        await r.Body!.transformToByteArray();
      },
    ],
  ];
  console.log(`endpoint ${endpoint}, emulator pid ${pid}, ${n} requests per kind, one at a time`);
  const only = arg('only', '');
  for (const [name, call] of kinds) {
    if (only && !name.includes(only)) continue;
    for (let i = 0; i < 10; i++) await call(i); // warm-up
    const emu0 = procCpuSeconds(pid);
    const self0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < n; i++) await call(i);
    const wall = performance.now() - t0;
    const self = process.cpuUsage(self0);
    const emu = procCpuSeconds(pid) - emu0;
    const per = (s: number) => ((s * 1000) / n).toFixed(2);
    console.log(
      `${name.padEnd(48)} emulator ${per(emu)} ms  client ${per((self.user + self.system) / 1e6)} ms  wall ${(wall / n).toFixed(2)} ms per request`,
    );
  }
  destroyClients(c);
  rmSync(path.dirname(file), { recursive: true, force: true });
  await emulator.stop();
}

await main();
