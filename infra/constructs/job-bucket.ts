import { Duration, type RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  EventType,
  type IBucket,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { SqsDestination } from 'aws-cdk-lib/aws-s3-notifications';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { BucketDefinition } from '../../core/resources.js';

export interface JobBucketProps {
  /** The shared definition (core/resources.ts): expiring prefixes and submission triggers. */
  readonly definition: BucketDefinition;
  /** Receives an event for every object created under a submission trigger. */
  readonly submissionsQueue: IQueue;
  /** Where S3 server access logs go. */
  readonly accessLogsBucket: IBucket;
  /** Prefix of this bucket's access logs in `accessLogsBucket`. @default 'job-bucket/' */
  readonly accessLogsPrefix?: string;
  /** What happens to the bucket when it leaves the stack. */
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The job bucket: manifests, inputs, intermediate data and outputs. Private, encrypted,
 * TLS only, access-logged. Intermediate prefixes expire; unfinished multipart uploads
 * are aborted after a day. New `jobs/<id>/job.json` manifests and `incoming/.../_READY`
 * markers are announced on the submissions queue (S3 filters cannot hold a wildcard in
 * the middle, so each trigger is a prefix plus a suffix; the coordinator ignores any
 * other key).
 */
export class JobBucket extends Construct {
  public readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: JobBucketProps) {
    super(scope, id);
    const def = props.definition;
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      serverAccessLogsBucket: props.accessLogsBucket,
      serverAccessLogsPrefix: props.accessLogsPrefix ?? 'job-bucket/',
      lifecycleRules: [
        ...def.expiringPrefixes.map((p) => ({
          id: `expire-${p.prefix.replace(/[^A-Za-z0-9]+/g, '-').replace(/-$/, '')}`,
          prefix: p.prefix,
          expiration: Duration.days(p.days),
        })),
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      removalPolicy: props.removalPolicy,
    });
    const destination = new SqsDestination(props.submissionsQueue);
    for (const t of def.submissionTriggers) {
      this.bucket.addEventNotification(EventType.OBJECT_CREATED, destination, { prefix: t.prefix, suffix: t.suffix });
    }
    // The notifications add a CDK-managed handler at the stack's top level.
    const handler = Stack.of(this).node.children.find((c) => c.node.id.startsWith('BucketNotificationsHandler'));
    if (handler) {
      Validations.of(handler).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          'CDK-managed handler that installs the S3 event notifications during deployment; AWSLambdaBasicExecutionRole ' +
          'only lets it write its own logs, and its role cannot be replaced through the S3 notifications API.',
      });
    }
  }
}
