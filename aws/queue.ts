/**
 * A small SQS adapter: queue URLs resolved once, batched sends, single-message
 * receives (one task per worker at a time), deletes, visibility changes and the count of
 * waiting messages (the checker's lost-message rule).
 */
import {
  ChangeMessageVisibilityCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { AwsClients } from './clients.js';

export interface ReceivedMessage {
  readonly body: string;
  readonly receiptHandle: string;
  readonly receiveCount: number;
}

export class Queue {
  private url: Promise<string> | undefined;

  constructor(
    private readonly c: AwsClients,
    readonly name: string,
  ) {}

  /** The queue URL, looked up once. */
  queueUrl(): Promise<string> {
    this.url ??= this.c.sqs.send(new GetQueueUrlCommand({ QueueName: this.name })).then((o) => o.QueueUrl as string);
    this.url.catch(() => {
      this.url = undefined;
    });
    return this.url;
  }

  /** Send bodies in batches of 10, retrying entries SQS reports as failed. */
  async sendAll(bodies: readonly string[], delaySeconds = 0): Promise<void> {
    const QueueUrl = await this.queueUrl();
    for (let i = 0; i < bodies.length; i += 10) {
      let entries = bodies.slice(i, i + 10).map((MessageBody, j) => ({
        Id: String(j),
        MessageBody,
        DelaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))),
      }));
      for (let tries = 0; entries.length > 0; tries++) {
        const out = await this.c.sqs.send(new SendMessageBatchCommand({ QueueUrl, Entries: entries }));
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        entries = entries.filter((e) => failed.has(e.Id));
        if (entries.length > 0) {
          if (tries >= 5) throw new Error(`SQS refused ${entries.length} messages for ${this.name}`);
          await new Promise((r) => setTimeout(r, 100 * 2 ** tries));
        }
      }
    }
  }

  /**
   * Messages waiting to be received: visible plus delayed (SQS's approximate counts, which
   * lag sends by up to a minute). In-flight messages are not counted.
   */
  async waiting(): Promise<number> {
    const out = await this.c.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: await this.queueUrl(),
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesDelayed'],
      }),
    );
    const a = out.Attributes ?? {};
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  }

  /** Long-poll for at most one message. */
  async receiveOne(waitSeconds: number, abortSignal?: AbortSignal): Promise<ReceivedMessage | undefined> {
    return (await this.receive(1, waitSeconds, abortSignal))[0];
  }

  /** Receive up to `max` (1-10) messages, waiting at most `waitSeconds` for the first. */
  async receive(max: number, waitSeconds: number, abortSignal?: AbortSignal): Promise<ReceivedMessage[]> {
    const QueueUrl = await this.queueUrl();
    const out = await this.c.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: waitSeconds,
        MessageSystemAttributeNames: ['ApproximateReceiveCount'],
      }),
      { abortSignal },
    );
    return (out.Messages ?? [])
      .filter((m) => m.ReceiptHandle)
      .map((m) => ({
        body: m.Body ?? '',
        receiptHandle: m.ReceiptHandle as string,
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? '1'),
      }));
  }

  async delete(receiptHandle: string): Promise<void> {
    await this.c.sqs.send(new DeleteMessageCommand({ QueueUrl: await this.queueUrl(), ReceiptHandle: receiptHandle }));
  }

  /** Hide the message for `seconds` more (0 makes it visible to other workers at once). */
  async setVisibility(receiptHandle: string, seconds: number): Promise<void> {
    await this.c.sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: await this.queueUrl(),
        ReceiptHandle: receiptHandle,
        VisibilityTimeout: Math.max(0, Math.min(43_200, Math.round(seconds))),
      }),
    );
  }
}
