/**
 * Least-privilege IAM statements of each runtime role, written out by hand because the
 * CDK grant methods hand out wildcard actions (`s3:GetObject*`, `dynamodb:BatchGet*`...).
 * Every action is named; resources are the stack's own table, indexes, queue and bucket
 * (plus `dataBucketNames`). Object ARNs end in `/*`: job inputs and outputs may sit
 * under any prefix. DynamoDB transactions have no IAM action of their own: they need
 * the item actions they contain, plus ConditionCheckItem.
 */
import { Aws } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';

/** The resources a role may touch. */
export interface AccessTargets {
  readonly bucketArn: string;
  readonly tableArn: string;
  /** One ARN per global secondary index (Query only). */
  readonly indexArns: readonly string[];
  readonly tasksQueueArn: string;
  /** The task queue's dead-letter queue (the checker sends its stranded tasks again). */
  readonly tasksDlqArn: string;
  /** Further buckets holding job inputs and outputs. */
  readonly dataBucketNames: readonly string[];
}

export const WORKER_ACTIONS = {
  objects: ['s3:GetObject', 's3:PutObject'],
  buckets: ['s3:ListBucket'],
  queue: [
    'sqs:ReceiveMessage',
    'sqs:DeleteMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:SendMessage',
    'sqs:GetQueueUrl',
  ],
  deadLetters: [],
  table: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:Query',
    'dynamodb:BatchGetItem',
    'dynamodb:ConditionCheckItem',
  ],
  indexes: ['dynamodb:Query'],
} as const;

export const COORDINATOR_ACTIONS = {
  objects: ['s3:GetObject'],
  buckets: ['s3:ListBucket'],
  queue: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
  deadLetters: [],
  table: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
    'dynamodb:BatchWriteItem',
    'dynamodb:ConditionCheckItem',
  ],
  indexes: ['dynamodb:Query'],
} as const;

export const CHECKER_ACTIONS = {
  objects: ['s3:GetObject', 's3:PutObject'],
  buckets: ['s3:ListBucket'],
  queue: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
  deadLetters: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueUrl'],
  table: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
    'dynamodb:BatchGetItem',
    'dynamodb:ConditionCheckItem',
  ],
  indexes: ['dynamodb:Query'],
} as const;

export type RoleActions = typeof WORKER_ACTIONS | typeof COORDINATOR_ACTIONS | typeof CHECKER_ACTIONS;

/** ARN of a bucket given by name (for `dataBucketNames`). */
export function bucketArnOf(name: string): string {
  return `arn:${Aws.PARTITION}:s3:::${name}`;
}

/** The statements that grant `actions` on `targets`. */
export function statementsFor(actions: RoleActions, targets: AccessTargets): PolicyStatement[] {
  const buckets = [targets.bucketArn, ...targets.dataBucketNames.map(bucketArnOf)];
  const allow = (sid: string, a: readonly string[], resources: readonly string[]) =>
    new PolicyStatement({ sid, effect: Effect.ALLOW, actions: [...a], resources: [...resources] });
  return [
    allow(
      'JobObjects',
      actions.objects,
      buckets.map((b) => `${b}/*`),
    ),
    allow('ListJobBuckets', actions.buckets, buckets),
    allow('TasksQueue', actions.queue, [targets.tasksQueueArn]),
    ...(actions.deadLetters.length > 0 ? [allow('TasksDeadLetters', actions.deadLetters, [targets.tasksDlqArn])] : []),
    allow('StateTable', actions.table, [targets.tableArn]),
    allow('StateIndexes', actions.indexes, targets.indexArns),
  ];
}
