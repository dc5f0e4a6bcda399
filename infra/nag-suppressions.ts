/**
 * cdk-nag (AwsSolutions pack) acknowledgments: each names one finding on one construct
 * and says why it is acceptable. Nothing is acknowledged stack-wide.
 * Run the checks with `npx cdk synth -c nag=true` or `npx vitest run test/infra`.
 */
import { type CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { InterfaceVpcEndpoint } from 'aws-cdk-lib/aws-ec2';
import type { IConstruct } from 'constructs';
import type { MapReduceStack } from './mapreduce-stack.js';
import { bucketArnOf } from './permissions.js';

function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** The `<LogicalId.Arn>/*` form cdk-nag prints for the objects of a bucket of this stack. */
function objectsFinding(stack: Stack, bucket: IConstruct): string {
  const cfn = bucket.node.defaultChild as CfnResource;
  return `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(cfn)}.Arn>/*]`;
}

export function addNagSuppressions(stack: MapReduceStack): void {
  const objectsReason =
    'Job inputs, intermediate data and outputs live under any prefix the manifest names, so access is to the ' +
    "bucket's objects; actions are listed one by one (no wildcard actions) and the bucket is the stack's own.";
  const roles: IConstruct[] = [stack.coordinator.runtime.role, stack.checker.runtime.role, stack.workerPolicy];
  for (const scope of roles) {
    acknowledge(scope, objectsFinding(stack, stack.jobBucket.bucket), objectsReason);
    for (const name of stack.settings.dataBucketNames) {
      const arn = Stack.of(stack).resolve(`${bucketArnOf(name)}/*`) as { 'Fn::Join': [string, unknown[]] };
      const text = arn['Fn::Join'][1].map((p) => (typeof p === 'string' ? p : '<AWS::Partition>')).join('');
      acknowledge(
        scope,
        `AwsSolutions-IAM5[Resource::${text}]`,
        `${name} is a data bucket named in dataBucketNames: jobs read and write objects under any prefix of it.`,
      );
    }
  }

  acknowledge(
    stack.workers.taskDefinition.obtainExecutionRole(),
    'AwsSolutions-IAM5[Resource::*]',
    'ecr:GetAuthorizationToken, needed to pull the worker image, supports no resource-level permissions; the ' +
      'other ECR and Logs actions of this role are scoped to the image repository and the log group.',
  );
  acknowledge(
    stack.workers.taskDefinition,
    'AwsSolutions-ECS2',
    'The environment holds only resource names (bucket, table, queues) and timing settings, no secrets; ' +
      'the worker reads its whole configuration from it, also on EC2/EMR hosts.',
  );

  for (const child of stack.network.vpc.node.children) {
    if (!(child instanceof InterfaceVpcEndpoint)) continue;
    acknowledge(
      child,
      'AwsSolutions-EC23',
      'The endpoint security group CDK creates admits HTTPS only from the VPC CIDR (a token cdk-nag cannot ' +
        'read), never from 0.0.0.0/0.',
    );
  }

  const notifications = stack.node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
  if (notifications) {
    acknowledge(
      notifications,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      'CDK-managed handler that installs the S3 event notifications during deployment; AWSLambdaBasicExecutionRole ' +
        'only lets it write its own logs, and its role cannot be replaced through the S3 notifications API.',
    );
  }
}
