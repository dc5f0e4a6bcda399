/**
 * Issue 17 item 5: cancel and the finisher never disagree. Jobs whose reduce tasks all
 * committed are finished (finalizeJob, as the worker after the last commit does) while a
 * user cancels them (cancelJob), started at staggered offsets so some cancels land before
 * FINALIZING and some during or after the copies. Each job ends either SUCCEEDED with every part and
 * _SUCCESS, or CANCELLED without _SUCCESS; never CANCELLED with _SUCCESS.
 */
import { describe, expect, it } from 'vitest';
import { isErrorNamed } from '../../core/errors.js';
import { newJobId, partName } from '../../core/model.js';
import { cancelJob } from '../../services/cancel.js';
import { finalizeJob } from '../../services/phases.js';
import { usePrivateNamespace } from '../helpers/emulators.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

describe('cancel during finishing', () => {
  const env = usePrivateNamespace();

  it('each job ends SUCCEEDED with _SUCCESS or CANCELLED without it', async () => {
    const { s } = env;
    const R = 3;
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const jobId = newJobId();
      const output = `s3://${s.names.bucket}/out/cancel-finish-${i}/`;
      const base = runningJob(jobId, 1, R, Date.now());
      await s.jobs.create({ ...base, manifest: { ...base.manifest!, output }, phase: 'REDUCE', mapsCommitted: 1 });
      await s.tasks.putNew(pendingTasks(jobId, 'reduce', R));
      for (const t of await s.tasks.list(jobId, 'reduce')) {
        const key = `tmp/${jobId}/out/${t.taskId}/attempt-1`;
        await s.blobs.putBytes(s.names.bucket, key, `part ${t.index}\n`);
        const claimed = await s.tasks.claim(jobId, t.taskId, 'w', Date.now(), 60_000);
        const ref = { jobId, taskId: t.taskId, owner: 'w', attempt: claimed.attempt, startedAt: claimed.claimedAt ?? 0 };
        await s.tasks.commit(ref, Date.now(), { output: { key, offsets: [0, 7] }, counters: {} });
      }
      const job = (await s.jobs.get(jobId))!;
      // Stagger the two: the finisher up to 400 ms behind the cancel (the cancel should win),
      // or the cancel up to 75 ms behind the finisher (landing before, during or after FINALIZING).
      const finisherDelay = [0, 0, 0, 100, 200, 400][i % 6] as number;
      const cancelDelay = [0, 15, 30, 45, 60, 75][(i * 5) % 6] as number;
      const after = <T>(ms: number, f: () => Promise<T>) => new Promise((r) => setTimeout(r, ms)).then(f);
      const [finished, cancelled] = await Promise.allSettled([
        after(finisherDelay, () => finalizeJob(s, job)),
        after(cancelDelay, () => cancelJob(s, jobId, { where: 'test' })),
      ]);
      const end = (await s.jobs.get(jobId))!;
      const success = await s.blobs.hasAny(s.names.bucket, `out/cancel-finish-${i}/_SUCCESS`);
      if (end.status === 'SUCCEEDED') {
        expect(success, `job ${i}`).toBe(true);
        expect(finished).toEqual({ status: 'fulfilled', value: true });
        for (let p = 0; p < R; p++) {
          expect(await s.blobs.getText(s.names.bucket, `out/cancel-finish-${i}/${partName(p)}`)).toBe(`part ${p}\n`);
        }
        // The cancel was refused with a clear reason.
        expect(cancelled.status).toBe('rejected');
        expect(isErrorNamed((cancelled as PromiseRejectedResult).reason, 'UsageError')).toBe(true);
      } else {
        expect(end.status, `job ${i}`).toBe('CANCELLED');
        expect(success, `job ${i}: CANCELLED must have no _SUCCESS`).toBe(false);
        expect(finished).toEqual({ status: 'fulfilled', value: false });
      }
      outcomes.push(end.status);
    }
    // Both orders happened (otherwise the race was not exercised).
    expect(new Set(outcomes)).toEqual(new Set(['SUCCEEDED', 'CANCELLED']));
  });
});
