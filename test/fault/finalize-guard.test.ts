/**
 * The FINALIZING guard answering in place of the job read after a commit
 * (JobStore.beginFinalizeOrRead, used by services/phases.ts readAfterCommit), against the
 * emulator: refused, it returns the record as it stands (what the read it replaces would
 * have returned); won, the record after the write; only one caller wins. Seeded state in
 * an isolated namespace, no worker, nothing timed.
 */
import { describe, expect, it } from 'vitest';
import { newJobId } from '../../core/model.js';
import { usePrivateNamespace } from '../helpers/emulators.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

describe('beginFinalizeOrRead on the emulator', () => {
  const T = Date.now();
  const env = usePrivateNamespace(() => T);
  const NOW = new Date(T).toISOString();

  it('refused while an output task is uncommitted (with the current record), won once by the last commit, refused again after', async () => {
    const s = env.s;
    const jobId = newJobId();
    await s.jobs.create(runningJob(jobId, 2, 0, T)); // map-only: the maps are the output tasks
    await s.tasks.putNew(pendingTasks(jobId, 'map', 2));
    const commit = async (taskId: string) => {
      const t = await s.tasks.claim(jobId, taskId, 'w0', T, 10_000);
      await s.tasks.commit({ jobId, taskId, owner: 'w0', attempt: t.attempt, startedAt: T }, T, { output: { key: `tmp/${taskId}`, offsets: [0, 1] }, counters: {} });
    };

    await commit('m-00000');
    const early = await s.jobs.beginFinalizeOrRead(jobId, NOW);
    expect(early.won).toBe(false);
    expect(early.job).toMatchObject({ jobId, status: 'RUNNING', phase: 'MAP', mapsCommitted: 1, numMaps: 2 });
    expect(early.job).toEqual(await s.jobs.get(jobId));

    await commit('m-00001');
    const last = await s.jobs.beginFinalizeOrRead(jobId, NOW);
    expect(last.won).toBe(true);
    expect(last.job).toMatchObject({ jobId, phase: 'FINALIZING', mapsCommitted: 2 });
    expect(last.job?.manifest).toEqual((await s.jobs.get(jobId))?.manifest);

    const again = await s.jobs.beginFinalizeOrRead(jobId, NOW);
    expect(again).toMatchObject({ won: false, job: { phase: 'FINALIZING' } });
  });

  it('no such job: refused, no record', async () => {
    expect(await env.s.jobs.beginFinalizeOrRead(newJobId(), NOW)).toEqual({ won: false, job: undefined });
  });
});
