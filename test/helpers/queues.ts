/** Reading a stack's queues directly: drain them, measure their depth, name their tasks. */
import { GetQueueAttributesCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import type { Queue } from '../../aws/queue.js';
import type { Services } from '../../services/context.js';

/** Every message now in the queue (each received once, hidden for 5 minutes); stops after an empty poll. */
export async function drainQueue(s: Services, queue: Queue = s.taskQueue, waitSeconds = 1): Promise<string[]> {
  const QueueUrl = await queue.queueUrl();
  const bodies: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const out = await s.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: waitSeconds,
        VisibilityTimeout: 300,
      }),
    );
    const got = out.Messages ?? [];
    if (got.length === 0) empty++;
    else empty = 0;
    for (const m of got) bodies.push(m.Body ?? '');
  }
  return bodies;
}

/** Visible + in-flight + delayed messages of a queue (approximate, as SQS reports them). */
export async function queueDepth(s: Pick<Services, 'clients' | 'taskQueue'>, queue: Queue = s.taskQueue): Promise<number> {
  const out = await s.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: await queue.queueUrl(),
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = out.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/** Task ids named by task-message bodies, sorted. */
export function taskIdsOf(bodies: string[]): string[] {
  return bodies.map((b) => (JSON.parse(b) as { taskId: string }).taskId).sort();
}
