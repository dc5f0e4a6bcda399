/**
 * Creates a local stack's resources through the SDK, idempotently, from the same
 * definitions the CDK stack reads (`core/resources.ts`). Safe to run repeatedly.
 */

import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import {
  CreateTableCommand,
  DescribeTableCommand,
  ResourceNotFoundException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketNotificationConfigurationCommand,
  PutPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  JOB_BUCKET,
  type QueueDefinition,
  type ResourceNames,
  STATE_TABLE,
  SUBMISSIONS_QUEUE,
  TASKS_QUEUE,
  type TableDefinition,
} from '../core/resources.js';
import type { AwsClients } from '../aws/clients.js';

/** The CreateTable input for a definition; the CDK side is compared against this in tests. */
export function tableInput(def: TableDefinition, tableName: string): CreateTableCommandInput {
  const attrs = new Map<string, 'S' | 'N'>();
  const keySchema = (pk: { name: string; type: 'S' | 'N' }, sk?: { name: string; type: 'S' | 'N' }) => {
    attrs.set(pk.name, pk.type);
    if (sk) attrs.set(sk.name, sk.type);
    return [
      { AttributeName: pk.name, KeyType: 'HASH' as const },
      ...(sk ? [{ AttributeName: sk.name, KeyType: 'RANGE' as const }] : []),
    ];
  };
  const KeySchema = keySchema(def.partitionKey, def.sortKey);
  const GlobalSecondaryIndexes = def.globalSecondaryIndexes.map((g) => ({
    IndexName: g.indexName,
    KeySchema: keySchema(g.partitionKey, g.sortKey),
    Projection: { ProjectionType: g.projection },
  }));
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema,
    AttributeDefinitions: [...attrs].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType })),
    GlobalSecondaryIndexes,
    SSESpecification: { Enabled: true },
  };
}

/** SQS attributes for a queue definition (the DLQ's ARN is filled in by the caller). */
export function queueAttributes(def: QueueDefinition, dlqArn: string): Record<string, string> {
  return {
    VisibilityTimeout: String(def.visibilityTimeoutSeconds),
    ReceiveMessageWaitTimeSeconds: String(def.receiveWaitTimeSeconds),
    MessageRetentionPeriod: String(def.messageRetentionSeconds),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: def.maxReceiveCount }),
    SqsManagedSseEnabled: 'true',
  };
}

async function ensureTable(c: AwsClients, def: TableDefinition, name: string): Promise<void> {
  try {
    await c.ddb.send(new DescribeTableCommand({ TableName: name }));
    return;
  } catch (err) {
    if (!(err instanceof ResourceNotFoundException)) throw err;
  }
  try {
    await c.ddb.send(new CreateTableCommand(tableInput(def, name)));
  } catch (err) {
    // Another process created it in between: that is fine.
    if ((err as Error).name !== 'ResourceInUseException') throw err;
  }
  await waitUntilTableExists({ client: c.ddb, maxWaitTime: 60, minDelay: 1 }, { TableName: name });
  await c.ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: name,
      TimeToLiveSpecification: { AttributeName: def.timeToLiveAttribute, Enabled: true },
    }),
  );
}

async function queueArn(c: AwsClients, url: string): Promise<string> {
  const out = await c.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new Error(`Queue ${url} has no ARN`);
  return arn;
}

/** Create a queue and its DLQ; returns the main queue's URL and ARN. */
async function ensureQueue(
  c: AwsClients,
  def: QueueDefinition,
  name: string,
  dlqName: string,
): Promise<{ url: string; arn: string }> {
  const dlq = await c.sqs.send(
    new CreateQueueCommand({
      QueueName: dlqName,
      Attributes: { MessageRetentionPeriod: String(def.deadLetterRetentionSeconds), SqsManagedSseEnabled: 'true' },
    }),
  );
  const dlqArn = await queueArn(c, dlq.QueueUrl as string);
  const q = await c.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: queueAttributes(def, dlqArn) }));
  const url = q.QueueUrl as string;
  return { url, arn: await queueArn(c, url) };
}

async function ensureBucket(c: AwsClients, name: string, submissionsArn: string): Promise<void> {
  try {
    await c.s3.send(new CreateBucketCommand({ Bucket: name }));
  } catch (err) {
    const n = (err as Error).name;
    if (n !== 'BucketAlreadyOwnedByYou' && n !== 'BucketAlreadyExists') throw err;
  }
  await c.s3.send(
    new PutBucketEncryptionCommand({
      Bucket: name,
      ServerSideEncryptionConfiguration: {
        Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
    }),
  );
  await c.s3.send(
    new PutPublicAccessBlockCommand({
      Bucket: name,
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    }),
  );
  await c.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: name,
      NotificationConfiguration: {
        QueueConfigurations: JOB_BUCKET.submissionTriggers.map((t) => ({
          QueueArn: submissionsArn,
          Events: ['s3:ObjectCreated:*'],
          Filter: {
            Key: {
              FilterRules: [
                { Name: 'prefix', Value: t.prefix },
                { Name: 'suffix', Value: t.suffix },
              ],
            },
          },
        })),
      },
    }),
  );
}

/** Create (or confirm) every resource of a local stack. */
export async function bootstrapLocalStack(c: AwsClients, names: ResourceNames): Promise<void> {
  const [, , submissions] = await Promise.all([
    ensureTable(c, STATE_TABLE, names.table),
    ensureQueue(c, TASKS_QUEUE, names.tasksQueue, names.tasksDlq),
    ensureQueue(c, SUBMISSIONS_QUEUE, names.submissionsQueue, names.submissionsDlq),
  ]);
  await ensureBucket(c, names.bucket, submissions.arn);
}
