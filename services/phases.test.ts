/**
 * The job read after a commit (readAfterCommit) and what follows it (advanceAfterCommit),
 * on fake adapters: the committer of an output task of the last step sends the FINALIZING
 * guard in place of a read, everyone else reads, and a won guard finishes the job without
 * a second guard write.
 */
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../core/manifest.js';
import type { AcceptedJob, JobRecord, TaskRecord } from '../core/model.js';
import { type Services, silentLog } from './context.js';
import { advanceAfterCommit, likelyLastOutput, readAfterCommit } from './phases.js';

const NOW = 1_800_000_000_000;

function job(over: Partial<JobRecord> = {}, steps = 1): AcceptedJob {
  return {
    jobId: 'j1',
    status: 'RUNNING',
    phase: 'REDUCE',
    manifest: { output: 's3://out/res/', steps: Array.from({ length: steps }, () => ({})) } as unknown as Manifest,
    numMaps: 2,
    numReduces: 2,
    mapsCommitted: 2,
    reducesCommitted: 2,
    inputBytes: 1,
    counters: {},
    createdAt: new Date(NOW - 60_000).toISOString(),
    updatedAt: new Date(NOW - 60_000).toISOString(),
    ...over,
  } as AcceptedJob;
}

function committed(index: number): TaskRecord {
  return { jobId: 'j1', taskId: `r-0000${index}`, kind: 'reduce', index, status: 'COMMITTED', attempt: 1, failures: 0, stalls: 0, output: { key: `tmp/j1/out/r${index}` } } as TaskRecord;
}

/** Fake adapters recording the calls made. */
function fake(stored: JobRecord, guard: { won: boolean; job: JobRecord | undefined }) {
  const calls: string[] = [];
  const s = {
    now: () => NOW,
    log: silentLog,
    names: { bucket: 'stack' },
    metrics: { jobFinished: () => {} },
    jobs: {
      get: async () => (calls.push('get'), stored),
      beginFinalizeOrRead: async () => (calls.push('beginFinalizeOrRead'), guard),
      beginFinalize: async () => (calls.push('beginFinalize'), true),
      succeed: async () => (calls.push('succeed'), true),
      startReducePhase: async () => (calls.push('startReducePhase'), false),
    },
    tasks: { list: async () => (calls.push('list'), [committed(0), committed(1)]) },
    blobs: {
      copy: async (_from: unknown, to: { key: string }) => void calls.push(`copy ${to.key}`),
      putBytes: async (_b: string, key: string) => void calls.push(`put ${key}`),
      list: async () => (calls.push('list tmp'), []),
      deleteMany: async () => void calls.push('deleteMany'),
    },
  } as unknown as Services;
  return { s, calls };
}

describe('readAfterCommit', () => {
  it("a reduce of the last step sends the FINALIZING guard instead of reading the job", async () => {
    const { s, calls } = fake(job(), { won: false, job: job({ reducesCommitted: 1 }) });
    const r = await readAfterCommit(s, job({ reducesCommitted: 0 }), { kind: 'reduce', step: 0 });
    expect(calls).toEqual(['beginFinalizeOrRead']);
    expect(r).toEqual({ won: false, job: job({ reducesCommitted: 1 }) });
  });

  it('a map of a map-only job is an output task too', async () => {
    const { s, calls } = fake(job(), { won: false, job: undefined });
    await readAfterCommit(s, job({ numReduces: 0, phase: 'MAP', mapsCommitted: 0 }), { kind: 'map', step: 0 });
    expect(calls).toEqual(['beginFinalizeOrRead']);
  });

  it('a map of a job with reduces, and a reduce of an earlier step, read the job', async () => {
    const maps = fake(job({ phase: 'MAP' }), { won: true, job: undefined });
    expect(await readAfterCommit(maps.s, job({ phase: 'MAP' }), { kind: 'map', step: 0 })).toEqual({ won: false, job: job({ phase: 'MAP' }) });
    expect(maps.calls).toEqual(['get']);
    const early = fake(job({}, 2), { won: true, job: undefined });
    await readAfterCommit(early.s, job({}, 2), { kind: 'reduce', step: 0 });
    expect(early.calls).toEqual(['get']);
  });
});

describe('likelyLastOutput: the finish list beside the guard', () => {
  it('is the committer of the only output task, or of one whose others had all committed at its claim', () => {
    expect(likelyLastOutput(job({ numReduces: 1, reducesCommitted: 0 }))).toBe(true);
    expect(likelyLastOutput(job({ numReduces: 2, reducesCommitted: 1 }))).toBe(true);
    expect(likelyLastOutput(job({ numReduces: 2, reducesCommitted: 0 }))).toBe(false);
    expect(likelyLastOutput(job({ numReduces: 0, numMaps: 1, mapsCommitted: 0 }))).toBe(true);
    expect(likelyLastOutput(job({ numReduces: 0, numMaps: 4, mapsCommitted: 2 }))).toBe(false);
  });

  it('a likely last reducer lists the outputs beside its guard, and the won finish uses that list (no list after the guard)', async () => {
    const { s, calls } = fake(job(), { won: true, job: job({ phase: 'FINALIZING' }) });
    const r = await readAfterCommit(s, job({ numReduces: 2, reducesCommitted: 1 }), { kind: 'reduce', step: 0 });
    expect(calls).toEqual(['list', 'beginFinalizeOrRead']);
    expect(await advanceAfterCommit(s, r)).toBe('finished');
    expect(calls).toEqual(['list', 'beginFinalizeOrRead', 'copy res/part-00000', 'copy res/part-00001', 'put res/_SUCCESS', 'succeed', 'list tmp', 'deleteMany']);
  });

  it('a refused guard drops the list (advanceJob as before); a list that misses a commit is taken again', async () => {
    const refused = fake(job(), { won: false, job: job({ reducesCommitted: 1 }) });
    const r = await readAfterCommit(refused.s, job({ numReduces: 2, reducesCommitted: 1 }), { kind: 'reduce', step: 0 });
    expect(r).toEqual({ won: false, job: job({ reducesCommitted: 1 }) });
    expect(await advanceAfterCommit(refused.s, r)).toBe('none');
    const stale = fake(job(), { won: true, job: undefined });
    const early = Promise.resolve([committed(0), { ...committed(1), status: 'RUNNING' } as TaskRecord]);
    expect(await advanceAfterCommit(stale.s, { won: true, job: job({ phase: 'FINALIZING' }), outputs: early })).toBe('finished');
    expect(stale.calls.slice(0, 3)).toEqual(['list', 'copy res/part-00000', 'copy res/part-00001']);
  });
});

describe('advanceAfterCommit', () => {
  it('a won guard finishes the job without another guard write: parts, _SUCCESS, SUCCEEDED, tmp/ deleted', async () => {
    const { s, calls } = fake(job(), { won: true, job: undefined });
    expect(await advanceAfterCommit(s, { won: true, job: job({ phase: 'FINALIZING' }) })).toBe('finished');
    expect(calls).toEqual(['list', 'copy res/part-00000', 'copy res/part-00001', 'put res/_SUCCESS', 'succeed', 'list tmp', 'deleteMany']);
  });

  it('a refused guard hands the record it returned to advanceJob: a reduce not yet the last does nothing', async () => {
    const { s, calls } = fake(job(), { won: false, job: undefined });
    expect(await advanceAfterCommit(s, { won: false, job: job({ reducesCommitted: 1 }) })).toBe('none');
    expect(calls).toEqual([]);
  });

  it('a refused guard on a job whose map phase has not moved on yet (early reducers all done) starts the reduce phase as a read would', async () => {
    const { s, calls } = fake(job(), { won: false, job: undefined });
    await advanceAfterCommit(s, { won: false, job: job({ phase: 'MAP' }) });
    expect(calls).toEqual(['startReducePhase']);
  });

  it('no job: nothing', async () => {
    const { s, calls } = fake(job(), { won: false, job: undefined });
    expect(await advanceAfterCommit(s, { won: false, job: undefined })).toBe('none');
    expect(calls).toEqual([]);
  });
});
