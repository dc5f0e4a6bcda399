/**
 * Acceptance 4: a worker paused with SIGSTOP past its lease. The checker reclaims
 * its task, another worker redoes and commits it and the job succeeds; then the
 * first worker is resumed. Its late commit is refused (fenced on owner and attempt)
 * and nothing changes: the task record, the job's counters and the output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isErrorNamed, type StaleStateError } from '../../core/errors.js';
import { LOG_EVENTS } from '../../core/log-events.js';
import type { ManifestInput } from '../../core/manifest.js';
import { startFaultStack } from '../helpers/emulators.js';
import { expectIdenticalParts, INDEX_MAPPER, INDEX_REDUCER, putScript, syntheticText } from '../helpers/index-job.js';
import type { TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { eventsOf, finish, saveWorkerLogs, workerLogRecords } from '../helpers/worker-logs.js';
import { signalWorker, waitForRunningTask } from '../helpers/worker-processes.js';

describe('a worker paused past its lease, then resumed', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await startFaultStack({ workers: 2 });
  });
  afterAll(async () => {
    saveWorkerLogs(t, 'paused-worker');
    await t?.stop();
  });

  it('has its late commit refused, and the output is unchanged', async () => {
    const base = {
      input: await t.putInput('in/pause/', { 'words.txt': syntheticText(200, 3) }),
      mapper: 'index_map.sh',
      reducer: 'index_reduce.sh',
      files: [
        await putScript(t, 'code/pause/index_map.sh', INDEX_MAPPER),
        await putScript(t, 'code/pause/index_reduce.sh', INDEX_REDUCER),
      ],
      numMappers: 2,
      numReducers: 1,
    };
    const cleanOut = `s3://${t.bucket}/out/pause-clean/`;
    const cleanJob = await finish(t, await t.submit({ ...base, output: cleanOut } as ManifestInput));
    expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
    const clean = await t.readParts(cleanOut, 1);

    const output = `s3://${t.bucket}/out/pause/`;
    const jobId = await t.submit({ ...base, output, env: { MAP_SLEEP: '2' } } as ManifestInput);
    const victim = await waitForRunningTask(t, jobId, 'map', 300);
    const paused = signalWorker(t, victim.owner, 'SIGSTOP');
    let resumed = false;
    try {
      // Its heartbeats stop; after the lease (1 s) the checker reclaims, the other worker redoes it.
      const job = await finish(t, jobId);
      expect(job.status, job.reason).toBe('SUCCEEDED');
      const before = (await t.s.tasks.list(jobId, 'map')).find((x) => x.taskId === victim.taskId);
      expect(before).toMatchObject({ status: 'COMMITTED', stalls: 1, failures: 0 });
      expect(before?.owner).not.toBe(victim.owner);
      expect(before?.committedAttempt).toBeGreaterThan(victim.attempt);
      const outBefore = await t.readParts(output, 1);
      expectIdenticalParts(outBefore, clean, 'output after the pause');

      // What the paused attempt will try when resumed is refused: the record names another attempt.
      const late = await t.s.tasks
        .commit({ jobId, taskId: victim.taskId, owner: victim.owner, attempt: victim.attempt, startedAt: victim.claimedAt ?? 0 }, Date.now(), {
          output: { key: 'tmp/late', offsets: [0, 0] },
          counters: { 'mapreduce.MAP_INPUT_RECORDS': 1000 },
        })
        .catch((e: unknown) => e);
      expect(isErrorNamed(late, 'LeaseLostError')).toBe(true);
      expect((late as StaleStateError).current).toMatchObject({ status: 'COMMITTED', owner: before?.owner });

      paused.kill('SIGCONT');
      resumed = true;
      // The resumed worker finds out on its own (a heartbeat or its commit is refused) and discards the attempt.
      const attempt = { jobId, taskId: victim.taskId, attempt: victim.attempt, owner: victim.owner };
      const events = await waitFor(
        `the resumed worker (pid ${paused.pid}, exit ${paused.exitCode ?? paused.signalCode}) to discard its attempt`,
        () => {
          const mine = eventsOf(workerLogRecords(t, attempt));
          return mine.includes(LOG_EVENTS.attemptLostLease) ? mine : undefined;
        },
        { timeoutMs: 60_000 },
      );
      // The records are this attempt's (it starts with its claim), and it never committed.
      expect(events[0]).toBe(LOG_EVENTS.taskClaimed);
      expect(events).not.toContain(LOG_EVENTS.taskCommitted);
      // Discarding is the attempt's last step (task-runner settle): its effects are all in by now.

      const after = (await t.s.tasks.list(jobId, 'map')).find((x) => x.taskId === victim.taskId);
      expect(after).toEqual(before);
      const jobAfter = await t.job(jobId);
      expect(jobAfter?.counters).toEqual(job.counters);
      expect(jobAfter).toMatchObject({ status: 'SUCCEEDED', mapsCommitted: 2, reducesCommitted: 1 });
      expectIdenticalParts(await t.readParts(output, 1), outBefore, 'output after the resumed worker settled');
      expect(paused.exitCode).toBeNull(); // it carries on as a healthy worker
    } finally {
      if (!resumed) paused.kill('SIGCONT');
    }
  });
});
