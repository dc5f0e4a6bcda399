/**
 * One definition, two creators: the CDK stack and the local bootstrap
 * (local/bootstrap.ts) must build the same table keys, indexes, TTL attribute and queue
 * settings from core/resources.ts. The CloudFormation properties are compared with the
 * SDK inputs `tableInput(...)` and `queueAttributes(...)` produce.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueAttributes, tableInput } from '../../local/bootstrap.js';
import { type QueueDefinition, STATE_TABLE, SUBMISSIONS_QUEUE, TASKS_QUEUE } from '../../core/resources.js';
import type { QueueWithDlq } from '../../infra/constructs/queue-with-dlq.js';
import { logicalId, resourcesOfType, type Synthesized, synth } from './synth.js';

let s: Synthesized;
beforeAll(() => {
  s = synth();
}, 300_000);
afterAll(() => s?.cleanup());

type Named = { AttributeName: string };
const byName = <T extends Named>(xs: readonly T[] = []) =>
  [...xs].sort((a, b) => a.AttributeName.localeCompare(b.AttributeName));

describe('the state table', () => {
  it('has the keys, attributes, indexes, billing and encryption of tableInput()', () => {
    const tables = Object.values(resourcesOfType(s.template, 'AWS::DynamoDB::Table'));
    expect(tables).toHaveLength(1);
    const cfn = tables[0]?.Properties as Record<string, unknown>;
    const sdk = tableInput(STATE_TABLE, 'any-name');

    expect(cfn.KeySchema).toEqual(sdk.KeySchema);
    expect(byName(cfn.AttributeDefinitions as Named[])).toEqual(byName(sdk.AttributeDefinitions as Named[]));
    expect(cfn.BillingMode).toBe(sdk.BillingMode);
    expect((cfn.SSESpecification as { SSEEnabled: boolean }).SSEEnabled).toBe(sdk.SSESpecification?.Enabled);

    const indexes = (cfn.GlobalSecondaryIndexes as Record<string, unknown>[]).map((g) => ({
      IndexName: g.IndexName,
      KeySchema: g.KeySchema,
      Projection: g.Projection,
    }));
    const byIndex = (a: { IndexName?: unknown }, b: { IndexName?: unknown }) =>
      String(a.IndexName).localeCompare(String(b.IndexName));
    expect(indexes.sort(byIndex)).toEqual([...(sdk.GlobalSecondaryIndexes ?? [])].sort(byIndex));
    expect(indexes.map((i) => i.IndexName).sort()).toEqual(['active', 'byType']);
  });

  it('expires items on the TTL attribute the bootstrap enables', () => {
    const cfn = Object.values(resourcesOfType(s.template, 'AWS::DynamoDB::Table'))[0]?.Properties;
    // The bootstrap turns TTL on with UpdateTimeToLive(def.timeToLiveAttribute) after CreateTable.
    expect(cfn?.TimeToLiveSpecification).toEqual({ AttributeName: STATE_TABLE.timeToLiveAttribute, Enabled: true });
  });
});

describe.each([
  ['tasks', TASKS_QUEUE, (x: Synthesized) => x.stack.tasks],
  ['submissions', SUBMISSIONS_QUEUE, (x: Synthesized) => x.stack.submissions],
] as [string, QueueDefinition, (x: Synthesized) => QueueWithDlq][])('the %s queue', (_name, def, pick) => {
  it('has the attributes of queueAttributes(), redriving to its own DLQ', () => {
    const pair = pick(s);
    const queues = resourcesOfType(s.template, 'AWS::SQS::Queue');
    const cfn = queues[logicalId(s.stack, pair.queue)]?.Properties as Record<string, unknown>;
    const dlqId = logicalId(s.stack, pair.deadLetterQueue);
    const sdk = queueAttributes(def, 'DLQ-ARN');

    expect(cfn.VisibilityTimeout).toBe(Number(sdk.VisibilityTimeout));
    expect(cfn.ReceiveMessageWaitTimeSeconds).toBe(Number(sdk.ReceiveMessageWaitTimeSeconds));
    expect(cfn.MessageRetentionPeriod).toBe(Number(sdk.MessageRetentionPeriod));
    expect(String(cfn.SqsManagedSseEnabled)).toBe(sdk.SqsManagedSseEnabled);
    const redrive = JSON.parse(sdk.RedrivePolicy as string) as { deadLetterTargetArn: string; maxReceiveCount: number };
    expect(redrive.deadLetterTargetArn).toBe('DLQ-ARN');
    expect(cfn.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] },
      maxReceiveCount: redrive.maxReceiveCount,
    });
    // Every attribute the bootstrap sets has its CloudFormation counterpart checked above.
    expect(Object.keys(sdk).sort()).toEqual([
      'MessageRetentionPeriod',
      'ReceiveMessageWaitTimeSeconds',
      'RedrivePolicy',
      'SqsManagedSseEnabled',
      'VisibilityTimeout',
    ]);
  });

  it('has a DLQ with the retention and encryption the bootstrap gives it', () => {
    const dlq = resourcesOfType(s.template, 'AWS::SQS::Queue')[logicalId(s.stack, pick(s).deadLetterQueue)]?.Properties;
    expect(dlq?.MessageRetentionPeriod).toBe(def.deadLetterRetentionSeconds);
    expect(dlq?.SqsManagedSseEnabled).toBe(true);
    expect(dlq?.RedrivePolicy).toBeUndefined();
  });
});
