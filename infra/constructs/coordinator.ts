import { Duration } from 'aws-cdk-lib';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { RuntimeFunction } from './runtime-function.js';

export interface CoordinatorProps {
  /** Folder holding package.json and the handler. */
  readonly projectRoot: string;
  /** Handler file relative to `projectRoot`. */
  readonly entry: string;
  /** The queue of S3 notifications the coordinator consumes. */
  readonly submissionsQueue: IQueue;
  /** MR_* variables. */
  readonly environment: Record<string, string>;
  /** @default 60 s, half the submissions queue's visibility timeout */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** Messages per invocation. @default 10 */
  readonly batchSize?: number;
}

/**
 * The coordinator Lambda, fed by the submissions queue. It reports partial batch
 * failures, so one bad submission is retried (and in the end dead-lettered) alone.
 */
export class Coordinator extends Construct {
  public readonly runtime: RuntimeFunction;
  public readonly eventSource: SqsEventSource;

  constructor(scope: Construct, id: string, props: CoordinatorProps) {
    super(scope, id);
    this.runtime = new RuntimeFunction(this, 'Runtime', {
      projectRoot: props.projectRoot,
      entry: props.entry,
      description: 'MapReduce coordinator: plans submitted jobs and queues their map tasks',
      timeout: props.timeout ?? Duration.seconds(60),
      memorySize: props.memorySize,
      environment: props.environment,
    });
    this.eventSource = new SqsEventSource(props.submissionsQueue, {
      batchSize: props.batchSize ?? 10,
      reportBatchItemFailures: true,
    });
    this.runtime.function.addEventSource(this.eventSource);
  }
}
