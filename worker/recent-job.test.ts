import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../core/model.js';
import { RecentJob } from './recent-job.js';

const job = (step: number, phase: JobRecord['phase'] = 'MAP') => ({ jobId: 'j1', step, phase }) as JobRecord;
const claim = (o: Partial<{ table: string; jobId: string; step: number; now: number }> = {}) => ({
  table: 't',
  jobId: 'j1',
  step: 0,
  now: 1000,
  maxAgeMs: 6000,
  ...o,
});

/** A job read that counts its calls and answers with `record`. */
function reader(record: JobRecord | undefined) {
  let calls = 0;
  return { read: () => (calls++, Promise.resolve(record)), calls: () => calls };
}

describe('RecentJob', () => {
  it('a claim uses the read still in flight, without reading the job itself', async () => {
    const recent = new RecentJob();
    let answer!: (j: JobRecord) => void;
    recent.remember('t', 'j1', new Promise<JobRecord | undefined>((r) => (answer = r)), 900);
    const r = reader(job(0, 'REDUCE'));
    const got = recent.forClaim(claim(), r.read);
    expect(got).toBeDefined();
    answer(job(0));
    expect(await got).toEqual(job(0));
    expect(r.calls()).toBe(0);
  });

  it('none for another job, another table, or a read older than the limit', () => {
    const recent = new RecentJob();
    const r = reader(job(0));
    expect(recent.forClaim(claim(), r.read)).toBeUndefined(); // nothing remembered
    recent.remember('t', 'j1', Promise.resolve(job(0)), 1000);
    expect(recent.forClaim(claim({ jobId: 'j2' }), r.read)).toBeUndefined();
    expect(recent.forClaim(claim({ table: 'other' }), r.read)).toBeUndefined();
    expect(recent.forClaim(claim({ now: 7001 }), r.read)).toBeUndefined();
    expect(recent.forClaim(claim({ now: 7000 }), r.read)).toBeDefined();
    recent.forget();
    expect(recent.forClaim(claim(), r.read)).toBeUndefined();
    expect(r.calls()).toBe(0);
  });

  it('reads again when the remembered read failed, found nothing, is of another step or of a step change', async () => {
    const fresh = job(1);
    for (const remembered of [Promise.reject(new Error('reset')), Promise.resolve(undefined), Promise.resolve(job(0)), Promise.resolve(job(1, 'STEPPING'))]) {
      remembered.catch(() => {});
      const recent = new RecentJob();
      recent.remember('t', 'j1', remembered, 1000);
      const r = reader(fresh);
      expect(await recent.forClaim(claim({ step: 1 }), r.read)).toBe(fresh);
      expect(r.calls()).toBe(1);
    }
  });
});
