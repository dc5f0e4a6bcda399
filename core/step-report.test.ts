import { describe, expect, it } from 'vitest';
import { parseManifest } from './manifest.js';
import type { JobRecord } from './model.js';
import { stepReports } from './step-report.js';

const T0 = Date.parse('2026-11-26T10:00:00.000Z');
const iso = (s: number) => new Date(T0 + s * 1000).toISOString();
const manifest = parseManifest(
  JSON.stringify({
    input: 's3://bkt/in/',
    output: 's3://bkt/out/',
    numReducers: 2,
    steps: [{ mapper: 'wc.sh', reducer: 'sum.sh' }, { mapper: 'swap.sh', reducer: 'cat' }, { mapper: 'count.sh', numReducers: 0 }],
  }),
);
/** Step 2 of 3 running: step 1 ended at 10 s with its counters taken. */
const running = {
  jobId: 'j',
  status: 'RUNNING',
  phase: 'REDUCE',
  manifest,
  step: 1,
  stepsDone: [{ numMaps: 4, numReduces: 2, finishedAt: iso(10), counters: { 'mapreduce.MAP_INPUT_RECORDS': 100, 'App.Bad': 1 } }],
  numMaps: 2,
  numReduces: 2,
  mapsCommitted: 2,
  reducesCommitted: 1,
  inputBytes: 1000,
  counters: { 'mapreduce.MAP_INPUT_RECORDS': 130, 'App.Bad': 1, 'mapreduce.FAILED_ATTEMPTS': 1 },
  createdAt: iso(0),
  updatedAt: iso(15),
} as JobRecord;
const attempts = [
  { taskId: 'm-00000', outcome: 'committed' },
  { taskId: 'm-00001', outcome: 'failed' },
  { taskId: 'm-00001', outcome: 'committed' },
  { taskId: 's2-m-00000', outcome: 'failed' },
  { taskId: 's2-m-00000', outcome: 'committed' },
  { taskId: 's2-r-00001', outcome: 'running' },
];

describe('stepReports', () => {
  it('a running 3-step job: the finished step, the current one with its progress, the pending one; spans tile the job', () => {
    const [one, two, three] = stepReports(running, attempts, 16);
    expect(one).toEqual({
      step: 1,
      state: 'done',
      mapper: 'wc.sh',
      reducer: 'sum.sh',
      numMaps: 4,
      numReduces: 2,
      mapsCommitted: 4,
      reducesCommitted: 2,
      start: 0,
      end: 10,
      seconds: 10,
      attempts: 3,
      failedAttempts: 1,
      counters: { 'mapreduce.MAP_INPUT_RECORDS': 100, 'App.Bad': 1 },
    });
    expect(two).toMatchObject({ step: 2, state: 'running', mapper: 'swap.sh', reducer: 'cat', mapsCommitted: 2, reducesCommitted: 1, start: 10, end: 16, seconds: 6 });
    expect(two).toMatchObject({ attempts: 3, failedAttempts: 1 });
    // Its share of the job's counters: what was added after step 1 ended.
    expect(two!.counters).toEqual({ 'mapreduce.MAP_INPUT_RECORDS': 30, 'mapreduce.FAILED_ATTEMPTS': 1 });
    expect(three).toEqual({ step: 3, state: 'pending', mapper: 'count.sh', attempts: 0, failedAttempts: 0 });
  });

  it('a failed job: its current step failed; a step ended before counters were recorded has none', () => {
    const failed = { ...running, status: 'FAILED', finishedAt: iso(20), stepsDone: [{ numMaps: 4, numReduces: 2, finishedAt: iso(10) }] } as JobRecord;
    const [one, two] = stepReports(failed, attempts, 20);
    expect(one!.state).toBe('done');
    expect(one).not.toHaveProperty('counters');
    expect(two).toMatchObject({ state: 'failed', seconds: 10 });
    expect(two).not.toHaveProperty('counters');
  });

  it('a succeeded single-step job: one done step with all the counters', () => {
    const single = parseManifest(JSON.stringify({ input: 's3://bkt/in/', output: 's3://bkt/out/', mapper: 'm.sh', reducer: 'r.sh' }));
    const job = { ...running, manifest: single, step: undefined, stepsDone: undefined, status: 'SUCCEEDED', finishedAt: iso(9) } as JobRecord;
    expect(stepReports(job, [], 9)).toEqual([
      expect.objectContaining({ step: 1, state: 'done', start: 0, end: 9, counters: running.counters, attempts: 0 }),
    ]);
  });
});
