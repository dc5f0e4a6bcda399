/**
 * JobStore.getStatus, the projected read a follower polls (cli/job-client.ts waitForJob),
 * against the emulator: it returns the status and progress figures of the record as `get`
 * reads it, and nothing else (not the manifest, not the counters), so the poll does not move
 * and parse the whole record ten times a second. Seeded state, no worker, nothing timed.
 */
import { describe, expect, it } from 'vitest';
import { JOB_STATUS_VIEW_ATTRIBUTES } from '../../aws/items.js';
import { newJobId } from '../../core/model.js';
import { usePrivateNamespace } from '../helpers/emulators.js';
import { runningJob } from '../helpers/seed-records.js';

describe('JobStore.getStatus on the emulator', () => {
  const T = Date.now();
  const env = usePrivateNamespace(() => T);

  it('reads only the status view of the job record, equal to those fields of the whole record', async () => {
    const s = env.s;
    const jobId = newJobId();
    await s.jobs.create({ ...runningJob(jobId, 3, 2, T), inputBytes: 12_345, counters: { 'mapreduce.MAP_INPUT_BYTES': 12_345 } });

    const whole = await s.jobs.get(jobId);
    const view = await s.jobs.getStatus(jobId);
    expect(whole?.manifest).toBeDefined();
    expect(Object.keys(view ?? {}).sort()).toEqual([...JOB_STATUS_VIEW_ATTRIBUTES].sort());
    expect(view).toEqual(Object.fromEntries(JOB_STATUS_VIEW_ATTRIBUTES.map((a) => [a, whole?.[a]])));
    expect(view).toMatchObject({ jobId, status: 'RUNNING', phase: 'MAP', numMaps: 3, numReduces: 2, inputBytes: 12_345 });
  });

  it('sees a status change at once (a consistent read) and nothing for a missing job', async () => {
    const s = env.s;
    const jobId = newJobId();
    await s.jobs.create(runningJob(jobId, 1, 0, T));
    expect(await s.jobs.end(jobId, 'CANCELLED', 'test', new Date(T).toISOString())).toBe(true);
    expect((await s.jobs.getStatus(jobId))?.status).toBe('CANCELLED');
    expect(await s.jobs.getStatus(newJobId())).toBeUndefined();
  });
});
