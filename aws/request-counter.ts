/**
 * Counts the AWS requests a process makes, by `Service.Operation` (e.g. `S3.GetObject`),
 * with one SDK middleware per client. The task runner snapshots the counts when it claims
 * a task and takes the difference when the attempt ends, for the attempt's history entry
 * (the job report and cost model read it). Counting adds no request. SDK retries of one
 * command count once (the middleware sits before the retry step).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';

export type RequestCounts = Readonly<Record<string, number>>;

export class RequestCounter {
  private readonly counts = new Map<string, number>();

  /** Count one request of `service` (`S3`, `SQS`, `DynamoDB`) and operation (`GetObject`). */
  add(service: string, operation: string): void {
    const k = `${service}.${operation}`;
    this.counts.set(k, (this.counts.get(k) ?? 0) + 1);
  }

  /** The counts so far. */
  snapshot(): RequestCounts {
    return Object.fromEntries(this.counts);
  }

  /** Requests made since `before` (a snapshot), only the operations that were called. */
  since(before: RequestCounts): RequestCounts {
    const out: Record<string, number> = {};
    for (const [k, v] of this.counts) {
      const d = v - (before[k] ?? 0);
      if (d > 0) out[k] = d;
    }
    return out;
  }

  /** Add the counting middleware to a client (once per client). */
  attach(client: S3Client | SQSClient | DynamoDBClient, service: string): void {
    // The three clients' stacks differ only in their input/output types; the middleware is type-agnostic.
    (client.middlewareStack as S3Client['middlewareStack']).add(
      (next, context) => (args) => {
        this.add(service, String(context.commandName ?? 'unknown').replace(/Command$/, ''));
        return next(args);
      },
      { step: 'initialize', name: 'mapreduceRequestCounter' },
    );
  }
}
