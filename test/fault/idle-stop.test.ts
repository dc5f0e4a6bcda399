/**
 * SIGTERM of an idle worker whose long poll is in flight: the poll is not abandoned (SQS
 * would hand a message to the dead request and hide it for the whole visibility timeout,
 * 60 s), it returns, and what it received is made visible again at once
 * (LOG_EVENTS.messageReleasedOnStop). A message sent while the stopping worker polls can
 * be received again within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import { TASKS_QUEUE } from '../../core/resources.js';
import { startFaultStack } from '../helpers/emulators.js';
import type { TestStack } from '../helpers/stack.js';
import { sleep, waitFor } from '../helpers/wait.js';
import { eventsOf, saveWorkerLogs, workerLogRecords } from '../helpers/worker-logs.js';
import { exited } from '../helpers/worker-processes.js';

const POLL_WAIT_SECONDS = 8;

describe('SIGTERM of an idle worker', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startFaultStack({ workers: 1, timings: { pollWaitSeconds: POLL_WAIT_SECONDS } });
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'idle-stop');
    await t?.stop();
  });

  it('lets the in-flight long poll return and releases what it received: no visibility-timeout wait', async () => {
    const worker = t.stack.workerProcesses[0]!;
    await waitFor('the worker to start polling', () =>
      eventsOf(workerLogRecords(t)).includes(LOG_EVENTS.workerStarted) ? true : undefined,
    );
    await sleep(1000); // its first long poll (8 s) is now waiting in the queue
    worker.kill('SIGTERM');
    await sleep(300);
    const body = JSON.stringify({ jobId: 'idle-stop-none', taskId: 'm-00000' });
    const sentAt = Date.now();
    await t.s.taskQueue.sendAll([body]);
    await exited(worker);
    expect(worker.exitCode).toBe(0);
    expect(eventsOf(workerLogRecords(t))).toContain(LOG_EVENTS.messageReleasedOnStop);

    const again = await waitFor('the message to be receivable again', async () => (await t.s.taskQueue.receiveOne(1)) ?? undefined, {
      timeoutMs: 20_000,
    });
    expect(again.body).toBe(body);
    expect(again.receiveCount).toBe(2); // once by the stopping worker, once here
    // Far below the visibility timeout the abandoned poll would have cost.
    expect(Date.now() - sentAt).toBeLessThan(TASKS_QUEUE.visibilityTimeoutSeconds * 1000 / 3);
    await t.s.taskQueue.delete(again.receiptHandle);
  }, 60_000);
});
