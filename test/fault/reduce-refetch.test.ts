/**
 * Issue 13, reduce slow-start's fault case, on this design: a worker SIGKILLed after its
 * reducer has fetched every map output (its recorded progress shows merged records
 * already fed to the reducer, which happens only once all slices are fetched). The map
 * outputs live in S3 under their committed attempts, so no map is re-run: the new reduce
 * attempt fetches the same committed attempts again, and the output is byte-identical to
 * a clean run, with the same counters. (Reducers started before the maps end, opt-in:
 * test/fault/slow-start.test.ts; docs/architecture.md, "Reduce slow-start".)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import { startFaultStack } from '../helpers/emulators.js';
import { expectIdenticalParts, sortedCounters } from '../helpers/index-job.js';
import { type CleanIndexRun, cleanIndexRun, expectRedoneAfterStall, killAndReplaceWorker } from '../helpers/killed-task.js';
import type { TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { saveWorkerLogs } from '../helpers/worker-logs.js';

describe('a reducer SIGKILLed after fetching the map outputs', () => {
  let t: TestStack;
  let ref: CleanIndexRun;

  beforeAll(async () => {
    t = await startFaultStack({ workers: 2 });
    // The reducer sleeps before reading, so the attempt stays alive after its fetch.
    ref = await cleanIndexRun(t, 'refetch', { REDUCE_SLEEP: '4' });
  });

  afterAll(async () => {
    saveWorkerLogs(t, 'reduce-refetch');
    await t?.stop();
  });

  it('the reduce is redone from the same committed map attempts; output and counters identical', async () => {
    const output = `s3://${t.bucket}/out/refetch/`;
    const jobId = await t.submit({ ...ref.base, output } as ManifestInput);
    // A reduce attempt whose heartbeat reported merged bytes: all its slices are fetched.
    const victim = await waitFor(
      'a reduce task that has fetched its slices',
      async () => (await t.s.tasks.list(jobId, 'reduce')).find((x) => x.status === 'RUNNING' && x.owner && (x.progress ?? 0) > 0),
      { timeoutMs: 90_000, intervalMs: 50 },
    );
    const mapsBefore = (await t.s.tasks.list(jobId, 'map')).map((m) => [m.taskId, m.committedAttempt, m.output?.key]);
    expect(mapsBefore.every(([, attempt]) => attempt !== undefined)).toBe(true);
    await killAndReplaceWorker(t, victim.owner!);

    const { job } = await expectRedoneAfterStall(t, jobId, 'reduce', victim);
    // No map was re-run: the same attempts (and objects) were committed before the kill and after.
    expect((await t.s.tasks.list(jobId, 'map')).map((m) => [m.taskId, m.committedAttempt, m.output?.key])).toEqual(mapsBefore);
    expectIdenticalParts(await t.readParts(output, 2), ref.clean, 'output after killing a reducer that had fetched');
    expect(sortedCounters(job)).toEqual(sortedCounters(ref.cleanJob));
  });
});
