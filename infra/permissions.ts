/**
 * Least-privilege IAM statements of each runtime role, written out by hand because the
 * CDK grant methods hand out wildcard actions (`s3:GetObject*`, `dynamodb:BatchGet*`...).
 * Every action is named; resources are the stack's own table, indexes, queue and bucket
 * (plus `dataBucketNames`). Object ARNs end in `/*`: job inputs and outputs may sit
 * under any prefix. DynamoDB transactions have no IAM action of their own: they need
 * the item actions they contain, plus ConditionCheckItem.
 */
import { Aws, type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';

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

/** The IAM actions of one runtime role, by the kind of resource they apply to (a type, so Object.values sees the lists). */
export type RoleActions = {
  readonly objects: readonly string[];
  /** On the stack bucket's tmp/ prefix only (intermediate data of running jobs). */
  readonly tmpObjects: readonly string[];
  readonly buckets: readonly string[];
  readonly queue: readonly string[];
  readonly deadLetters: readonly string[];
  readonly table: readonly string[];
  readonly indexes: readonly string[];
};

export const WORKER_ACTIONS = {
  objects: ['s3:GetObject', 's3:PutObject'],
  // A speculative attempt that lost deletes its own temp objects (their keys name the attempt).
  tmpObjects: ['s3:DeleteObject'],
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
} as const satisfies RoleActions;

export const COORDINATOR_ACTIONS = {
  objects: ['s3:GetObject'],
  tmpObjects: [],
  buckets: ['s3:ListBucket'],
  queue: ['sqs:SendMessage', 'sqs:GetQueueUrl'],
  deadLetters: [],
  table: [
    'dynamodb:GetItem',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:Query',
    'dynamodb:ConditionCheckItem',
  ],
  indexes: ['dynamodb:Query'],
} as const satisfies RoleActions;

export const CHECKER_ACTIONS = {
  objects: ['s3:GetObject', 's3:PutObject'],
  // The checker may finish a job (finalizeJob), and the finisher deletes the job's tmp/ objects.
  tmpObjects: ['s3:DeleteObject'],
  buckets: ['s3:ListBucket'],
  // GetQueueAttributes: the lost-message rule reads how many messages wait (services/checker.ts).
  queue: ['sqs:SendMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
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
} as const satisfies RoleActions;

/** ARN of a bucket given by name (for `dataBucketNames`). */
function bucketArnOf(name: string): string {
  return `arn:${Aws.PARTITION}:s3:::${name}`;
}

/** The objects under the stack bucket's tmp/ prefix (core/layout.ts tmpPrefix). */
export function tmpObjectsArn(bucketArn: string): string {
  return `${bucketArn}/tmp/*`;
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
    ...(actions.tmpObjects.length > 0 ? [allow('TempObjects', actions.tmpObjects, [tmpObjectsArn(targets.bucketArn)])] : []),
    allow('ListJobBuckets', actions.buckets, buckets),
    allow('TasksQueue', actions.queue, [targets.tasksQueueArn]),
    ...(actions.deadLetters.length > 0 ? [allow('TasksDeadLetters', actions.deadLetters, [targets.tasksDlqArn])] : []),
    allow('StateTable', actions.table, [targets.tableArn]),
    allow('StateIndexes', actions.indexes, targets.indexArns),
  ];
}

/**
 * cdk-nag acknowledgments for the `<bucket>/*` resources of the JobObjects statement, on the
 * role or policy that holds it: one per bucket, none stack-wide.
 */
export function acknowledgeObjectAccess(scope: IConstruct, jobBucket: IConstruct, dataBucketNames: readonly string[]): void {
  const stack = Stack.of(scope);
  const cfn = jobBucket.node.defaultChild as CfnResource;
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfn)}.Arn>/*]`,
    reason:
      'Job inputs, intermediate data and outputs live under any prefix the manifest names, so access is to the ' +
      "bucket's objects; actions are listed one by one (no wildcard actions) and the bucket is the stack's own.",
  });
  Validations.of(scope).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfn)}.Arn>/tmp/*]`,
    reason:
      'Workers and the checker delete only under tmp/ of the stack bucket: the temp objects of speculative ' +
      'attempts that lost (tmp/<job>/<kind>/<task>/attempt-N) and, once a job succeeded, its tmp/<job>/ ' +
      'intermediates; job inputs, outputs and logs cannot be deleted.',
  });
  for (const name of dataBucketNames) {
    // cdk-nag prints the ARN with the partition token as `<AWS::Partition>`.
    const arn = stack.resolve(`${bucketArnOf(name)}/*`) as { 'Fn::Join': [string, unknown[]] };
    const text = arn['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '<AWS::Partition>')).join('');
    Validations.of(scope).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${text}]`,
      reason: `${name} is a data bucket named in dataBucketNames: jobs read and write objects under any prefix of it.`,
    });
  }
}
