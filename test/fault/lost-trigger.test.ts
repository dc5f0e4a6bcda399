/**
 * Acceptance 5: a crash between the last map commit and the reduce trigger. The map
 * tasks are run in-process by the real task runner whose commit "crashes" right after
 * the commit transaction, so no worker ever reads the job back to start the reduce
 * phase. No worker process exists until the phase has changed, so only the local
 * stack's checker can start it; then workers run the reduces and the job completes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AttemptRef, type CommitOutcome, TaskStore } from '../../aws/task-store.js';
import type { Services } from '../../services/context.js';
import { FileCache } from '../../worker/attempt-dir.js';
import { Heartbeat } from '../../worker/heartbeat.js';
import { parseTaskMessage } from '../../services/task-lifecycle.js';
import { handleTaskMessage } from '../../worker/task-runner.js';
import { startFaultStack } from '../helpers/emulators.js';
import { example, sortedLines, type TestStack, unixPipeline } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';

/** A task store whose map commits succeed and then "crash" the worker before it does anything else. */
class CrashAfterMapCommit extends TaskStore {
  commits = 0;
  override async commit(...args: Parameters<TaskStore['commit']>): Promise<CommitOutcome> {
    const outcome = await super.commit(...args);
    const ref: AttemptRef = args[0];
    if (!ref.taskId.startsWith('m-')) return outcome;
    this.commits++;
    throw new Error(`simulated crash right after committing ${ref.taskId}`);
  }
}

describe('a crash between the last map commit and the reduce trigger', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startFaultStack({ workers: 0 });
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'lost-trigger');
    await t?.stop();
  });

  it('the checker starts the reduce phase and the job completes', async () => {
    const dataDir = example('data');
    const files: Record<string, Buffer> = {};
    for (const f of readdirSync(dataDir)) files[f] = readFileSync(path.join(dataDir, f));
    const input = await t.putInput('in/trigger/', files);
    const output = `s3://${t.bucket}/out/trigger/`;
    const jobId = await t.submit({
      input,
      output,
      mapper: 'wc_map.sh',
      reducer: 'wc_reduce.sh',
      files: [
        await t.putFile(example('wordcount/wc_map.sh'), 'code/trigger/wc_map.sh'),
        await t.putFile(example('wordcount/wc_reduce.sh'), 'code/trigger/wc_reduce.sh'),
      ],
      numMappers: 3,
      numReducers: 2,
    });
    const created = await waitFor('the coordinator to create the job', async () => {
      const j = await t.job(jobId);
      return j?.status === 'RUNNING' ? j : undefined;
    });
    expect(created.numMaps).toBeGreaterThanOrEqual(2);

    // The in-process map worker: the real task runner, with a commit that crashes after the transaction.
    const crashing = new CrashAfterMapCommit(t.s.clients, t.s.names.table);
    const s: Services = { ...t.s, tasks: crashing };
    const workerId = 'crashes-after-commit';
    const heartbeat = new Heartbeat(s, workerId);
    const shutdown = new AbortController();
    const deps = {
      s,
      workerId,
      heartbeat,
      files: new FileCache(s.blobs, path.join(t.dir, 'in-process')),
      settings: { sortBufferBytes: 1 << 20, scratchDir: path.join(t.dir, 'in-process') },
      shutdown: shutdown.signal,
    };
    heartbeat.start();
    try {
      const mapsLeft = async () => (await t.s.tasks.list(jobId, 'map')).filter((x) => x.status !== 'COMMITTED').length;
      const deadline = Date.now() + 60_000;
      while ((await mapsLeft()) > 0) {
        if (Date.now() > deadline) throw new Error('in-process map worker did not commit every map');
        const msg = await s.taskQueue.receiveOne(1);
        if (!msg) continue;
        const m = parseTaskMessage(msg.body);
        if (m?.jobId !== jobId || !m.taskId.startsWith('m-')) {
          await s.taskQueue.setVisibility(msg.receiptHandle, 0); // not ours to run
          continue;
        }
        await handleTaskMessage(deps, msg);
      }
    } finally {
      shutdown.abort();
      await heartbeat.stop();
      await t.s.workers.remove(workerId);
    }
    expect(crashing.commits).toBe(created.numMaps);

    // Nobody ran the trigger; no worker process exists. The checker must start the reduce phase.
    expect(t.stack.workerProcesses).toHaveLength(0);
    const reducing = await waitFor(
      'the checker to start the reduce phase',
      async () => {
        const j = await t.job(jobId);
        return j?.phase === 'REDUCE' && j.reduceEnqueuedAt ? j : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(reducing.mapsCommitted).toBe(created.numMaps);
    expect((await t.s.tasks.list(jobId, 'reduce')).every((x) => x.status === 'PENDING' && x.attempt === 0)).toBe(true);

    t.stack.spawnWorker();
    t.stack.spawnWorker();
    const job = await finish(t, jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    for (const task of await t.s.tasks.list(jobId, 'map')) {
      expect(task).toMatchObject({ status: 'COMMITTED', owner: workerId, attempt: 1, committedAttempt: 1 });
    }
    const all = Buffer.concat(Object.keys(files).sort().map((k) => files[k] as Buffer));
    const expected = unixPipeline(all, example('wordcount/wc_map.sh'), example('wordcount/wc_reduce.sh'));
    expect(sortedLines(await t.readParts(output, 2))).toEqual(sortedLines(expected));
    expect(job.counters['mapreduce.MAP_INPUT_RECORDS']).toBe(sortedLines(all).length);
  });
});
