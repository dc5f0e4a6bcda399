import { Duration } from 'aws-cdk-lib';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { QueueDefinition } from '../../core/resources.js';

export interface QueueWithDlqProps {
  /** The shared definition (core/resources.ts): timeouts, retention and max receives. */
  readonly definition: QueueDefinition;
}

/**
 * An SQS queue and its dead-letter queue, built from a shared `QueueDefinition` so the
 * stack and the local bootstrap (`queueAttributes` in local/bootstrap.ts) agree. Both
 * queues use SQS-managed encryption and refuse requests that are not over TLS.
 */
export class QueueWithDlq extends Construct {
  /** The main queue; its redrive policy points at `deadLetterQueue`. */
  public readonly queue: Queue;
  /** Messages received `maxReceiveCount` times without being deleted end here. */
  public readonly deadLetterQueue: Queue;

  constructor(scope: Construct, id: string, props: QueueWithDlqProps) {
    super(scope, id);
    const def = props.definition;
    this.deadLetterQueue = new Queue(this, 'Dlq', {
      retentionPeriod: Duration.seconds(def.deadLetterRetentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Queue', {
      visibilityTimeout: Duration.seconds(def.visibilityTimeoutSeconds),
      receiveMessageWaitTime: Duration.seconds(def.receiveWaitTimeSeconds),
      retentionPeriod: Duration.seconds(def.messageRetentionSeconds),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: def.maxReceiveCount },
    });
  }
}
