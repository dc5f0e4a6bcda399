import { describe, expect, it } from 'vitest';
import type { TaskRecordItem } from './attempts.js';
import { buildJobReport, STRAGGLER_FACTOR, tail } from './job-report.js';
import { parseManifest } from './manifest.js';
import type { AttemptEntry, JobRecord } from './model.js';

const T0 = Date.parse('2026-11-26T10:00:00.000Z');
const job = {
  jobId: 'j',
  status: 'SUCCEEDED',
  phase: 'DONE',
  numMaps: 4,
  numReduces: 1,
  mapsCommitted: 4,
  reducesCommitted: 1,
  inputBytes: 4000,
  counters: { 'mapreduce.MAP_INPUT_RECORDS': 40, 'mapreduce.MAP_INPUT_BYTES': 4000, 'mapreduce.OUTPUT_BYTES': 90, 'App.BadLines': 2 },
  createdAt: new Date(T0).toISOString(),
  updatedAt: new Date(T0 + 30_000).toISOString(),
  finishedAt: new Date(T0 + 30_000).toISOString(),
} as JobRecord;

const h = (attempt: number, worker: string, s: number, e: number, o: Partial<AttemptEntry> = {}): AttemptEntry => ({
  attempt,
  worker,
  startedAt: T0 + s * 1000,
  endedAt: T0 + e * 1000,
  outcome: 'committed',
  inputBytes: 1000,
  ...o,
});
const task = (taskId: string, history: AttemptEntry[]): TaskRecordItem => ({
  jobId: 'j',
  taskId,
  kind: taskId.startsWith('m') ? 'map' : 'reduce',
  index: 0,
  status: 'COMMITTED',
  attempt: history.length,
  failures: 0,
  stalls: 0,
  history,
});
const tasks = [
  task('m-00000', [h(1, 'w1', 1, 3, { outcome: 'failed', reason: 'exit code 1' }), h(2, 'w2', 3, 5)]),
  task('m-00001', [h(1, 'w2', 1, 3)]),
  task('m-00002', [h(1, 'w1', 3, 5)]),
  task('m-00003', [h(1, 'w3', 1, 10)]), // 9 s against a 2 s median
  task('r-00000', [h(1, 'w1', 11, 20)]),
];
const stderr = { 'm-00000/1': `${Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n')}\n` };

describe('buildJobReport', () => {
  const r = buildJobReport({ job, tasks, stderr, now: T0 + 60_000 });

  it('has every attempt on its worker, in seconds since the job was created, and the phase boundaries', () => {
    expect(r.attempts).toHaveLength(6);
    expect(r.workers).toEqual(['w1', 'w2', 'w3']);
    expect(r.attempts.find((a) => a.taskId === 'm-00003')).toMatchObject({ worker: 'w3', start: 1, end: 10, seconds: 9 });
    expect(r.boundaries).toEqual([
      { label: 'job start', at: 0 },
      { label: 'maps done', at: 10 },
      { label: 'reduce start', at: 11 },
      { label: 'job succeeded', at: 30 },
    ]);
  });

  it(`marks attempts over ${STRAGGLER_FACTOR} x their phase median as stragglers`, () => {
    expect(r.medianSeconds.map).toBe(2);
    expect(r.attempts.filter((a) => a.straggler).map((a) => a.taskId)).toEqual(['m-00003']);
  });

  it('lists failed attempts with their reason and the tail of their stderr', () => {
    expect(r.failures).toEqual([
      { taskId: 'm-00000', attempt: 1, worker: 'w1', outcome: 'failed', reason: 'exit code 1', stderrTail: tail(stderr['m-00000/1'], 20) },
    ]);
    expect(r.failures[0]!.stderrTail!.split('\n')).toHaveLength(20);
    expect(r.failures[0]!.stderrTail!.endsWith('line 30')).toBe(true);
  });

  it("groups counters as Hadoop does, with the job's launched attempts and task time", () => {
    const groups = Object.fromEntries(r.counterGroups.map((g) => [g.group, Object.fromEntries(g.counters.map((c) => [c.name, c.value]))]));
    expect(r.counterGroups.map((g) => g.group)).toEqual([
      'Job Counters',
      'Map-Reduce Framework',
      'File Input Format Counters',
      'File Output Format Counters',
      'App',
    ]);
    expect(groups['Job Counters']).toMatchObject({ 'Launched map tasks': 5, 'Total time spent by all map tasks (ms)': (2 + 2 + 2 + 2 + 9) * 1000, 'Launched reduce tasks': 1 });
    expect(groups['File Input Format Counters']).toEqual({ 'Bytes Read': 4000 });
    expect(groups.App).toEqual({ BadLines: 2 });
  });

  it('spreads committed input bytes over time: the map phase processed 4000 bytes', () => {
    const width = r.throughput[1]!.t - r.throughput[0]!.t;
    const mapBytes = r.throughput.filter((p) => p.phase === 'map').reduce((n, p) => n + p.mbPerSecond * 1e6 * width, 0);
    expect(mapBytes).toBeCloseTo(4000, 6);
  });
});

describe('buildJobReport: a multi-step job', () => {
  const manifest = parseManifest(
    JSON.stringify({ input: 's3://bkt/in/', output: 's3://bkt/out/', steps: [{ mapper: 'a.sh', reducer: 'b.sh' }, { mapper: 'c.sh', reducer: 'd.sh' }] }),
  );
  const multi = {
    ...job,
    manifest,
    step: 1,
    stepsDone: [{ numMaps: 4, numReduces: 1, finishedAt: new Date(T0 + 21_000).toISOString(), counters: { 'mapreduce.MAP_INPUT_RECORDS': 40 } }],
    counters: { 'mapreduce.MAP_INPUT_RECORDS': 55 },
  } as JobRecord;
  const r = buildJobReport({ job: multi, tasks: [...tasks, { ...task('s2-m-00000', [h(1, 'w2', 22, 25)]), kind: 'map' }, task('s2-r-00000', [h(1, 'w1', 26, 29)])], now: T0 + 60_000 });

  it('marks where each step starts instead of the map and reduce phases, and tags attempts with their step', () => {
    expect(r.boundaries).toEqual([
      { label: 'job start', at: 0 },
      { label: 'step 2 start', at: 21 },
      { label: 'job succeeded', at: 30 },
    ]);
    expect(r.attempts.filter((a) => a.step === 2).map((a) => a.taskId)).toEqual(['s2-m-00000', 's2-r-00000']);
  });

  it("has each step's progress, span and own counters, grouped as the job's", () => {
    expect(r.steps.map((s) => [s.step, s.state, s.start, s.end, s.attempts])).toEqual([
      [1, 'done', 0, 21, 6],
      [2, 'done', 21, 30, 2],
    ]);
    const records = (i: number) =>
      r.steps[i]!.counterGroups?.find((g) => g.group === 'Map-Reduce Framework')?.counters.find((c) => c.name === 'Map input records')?.value;
    expect([records(0), records(1)]).toEqual([40, 15]);
    const launched = r.steps[1]!.counterGroups?.find((g) => g.group === 'Job Counters')?.counters;
    expect(launched).toContainEqual({ name: 'Launched map tasks', value: 1 });
  });
});
