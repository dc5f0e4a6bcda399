import { describe, expect, it } from 'vitest';
import type { JobRecord } from './model.js';
import {
  addCommitted,
  backupCap,
  chooseBackups,
  type CommittedStats,
  committedStats,
  DEFAULT_SPECULATION,
  estimate,
  meanMs,
  NO_COMMITTED,
  slowRuntimeMs,
  stdDevMs,
  type FleetSnapshot,
  type PhaseSnapshot,
  type RunningTask,
  speculationEnabled,
  speculativeFromJobConf,
  jobSpeculates,
} from './speculation.js';

const policy = { ...DEFAULT_SPECULATION, minRunMs: 1000 };
const NOW = 100_000;
const fleet: FleetSnapshot = { liveWorkers: 3, idleWorkers: 2, backupsInFlight: 0 };
/** A task claimed `ranMs` before NOW, having read `done` of 1000 bytes. */
const running = (taskId: string, ranMs: number, done: number, hasBackup = false): RunningTask => ({
  taskId,
  startedAt: NOW - ranMs,
  bytesDone: done,
  bytesTotal: 1000,
  hasBackup,
});
/** The sums the commits of attempts of these durations leave on the job record. */
const statsOf = (durations: readonly number[], bytes = 1000): CommittedStats =>
  durations.reduce((s, d) => addCommitted(s, d, bytes), NO_COMMITTED);
/** Seven tasks that each took 1 s: the phase mean rate is 1/1000 per ms. */
const committed = statsOf(Array.from({ length: 7 }, () => 1000));
const phase = (r: RunningTask[], o: Partial<PhaseSnapshot> = {}): PhaseSnapshot => ({
  enabled: true,
  pendingTasks: 0,
  running: r,
  committed,
  ...o,
});

describe('estimate (LATE)', () => {
  it('rate is score per ms, time left is (1 - score) / rate', () => {
    const e = estimate(running('m', 4000, 200), NOW);
    expect(e.rate).toBeCloseTo(0.2 / 4000);
    expect(e.timeLeftMs).toBeCloseTo(16_000);
  });
  it('no progress yet: time left is infinite', () => {
    expect(estimate(running('m', 4000, 0), NOW).timeLeftMs).toBe(Number.POSITIVE_INFINITY);
  });
  it('progress that has not moved for stalledMs: time left is unknown; moving progress keeps LATE', () => {
    const t = running('m', 4000, 200);
    expect(estimate({ ...t, progressAt: NOW - 2000 }, NOW, 2000).timeLeftMs).toBe(Number.POSITIVE_INFINITY);
    expect(estimate({ ...t, progressAt: NOW - 1999 }, NOW, 2000).timeLeftMs).toBeCloseTo(16_000, 6);
    // Not reported: LATE's estimate, whatever the policy.
    expect(estimate(t, NOW, 2000).timeLeftMs).toBeCloseTo(16_000, 6);
    // A progress time before the claim is the previous attempt's: the stall counts from the claim.
    expect(estimate({ ...running('m', 1500, 200), progressAt: NOW - 60_000 }, NOW, 2000).timeLeftMs).toBeCloseTo(6000, 6);
  });
  it('all input handed over but still running: time left is unknown, not 0', () => {
    // The reader goes past the split end to finish its last line: done > total.
    expect(estimate({ ...running('m', 4000, 1003) }, NOW).timeLeftMs).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('chooseBackups', () => {
  it('backs up a straggler well below the phase mean once no task is pending', () => {
    expect(chooseBackups(phase([running('m-3', 5000, 100)]), fleet, NOW, policy)).toEqual(['m-3']);
  });

  it('leaves a task running near the mean rate alone', () => {
    expect(chooseBackups(phase([running('m-3', 900 + 1000, 900)]), fleet, NOW, { ...policy, minRunMs: 0 })).toEqual([]);
  });

  it('waits while tasks of the phase are pending', () => {
    expect(chooseBackups(phase([running('m-3', 5000, 100)], { pendingTasks: 1 }), fleet, NOW, policy)).toEqual([]);
  });

  it('never backs up a task younger than the minimum run time', () => {
    const young = running('m-3', 999, 0);
    expect(chooseBackups(phase([young]), fleet, NOW, policy)).toEqual([]);
    // The same task one ms later (the clock is injected) qualifies.
    expect(chooseBackups(phase([young]), fleet, NOW + 1, policy)).toEqual(['m-3']);
  });

  it('never a second backup of the same task', () => {
    expect(chooseBackups(phase([running('m-3', 5000, 100, true)]), fleet, NOW, policy)).toEqual([]);
  });

  it('is off when the job switched speculation off for the phase', () => {
    expect(chooseBackups(phase([running('m-3', 5000, 100)], { enabled: false }), fleet, NOW, policy)).toEqual([]);
  });

  it('caps concurrent backups at 10 % of live workers, at least 1, and at the idle workers', () => {
    const slow = [running('a', 5000, 10), running('b', 5000, 20), running('c', 5000, 30)];
    expect(backupCap(3)).toBe(1);
    expect(backupCap(40)).toBe(4);
    expect(chooseBackups(phase(slow), fleet, NOW, policy)).toEqual(['a']);
    expect(chooseBackups(phase(slow), { ...fleet, backupsInFlight: 1 }, NOW, policy)).toEqual([]);
    const big = { liveWorkers: 40, idleWorkers: 2, backupsInFlight: 0 };
    // Longest time left first; two idle workers bound it below the cap of 4.
    expect(chooseBackups(phase(slow), big, NOW, policy)).toEqual(['a', 'b']);
    expect(chooseBackups(phase(slow), { ...big, idleWorkers: 0 }, NOW, policy)).toEqual([]);
  });

  it('backs up a straggler whose whole split sits in its stdin buffer (score 1, the bench run that launched no backup)', () => {
    // The checker's view 12.8 s into that job (2026-11-26, 8 maps on 3 workers): m-00000's
    // mapper slept with its 239 174-byte split written into its stdin (progress 239 177),
    // the 7 other maps had committed in ~2.9 s each, two workers idled. LATE's time left
    // was 0, so every sweep until the straggler's own commit 50 s later chose nothing.
    const now = 1_000_000;
    const stuck: RunningTask = { taskId: 'm-00000', startedAt: now - 12_788, bytesDone: 239_177, bytesTotal: 239_174, hasBackup: false };
    const done = statsOf([2_850, 2_900, 2_950, 2_880, 2_920, 3_010, 2_870], 239_174);
    const snapshot: PhaseSnapshot = { enabled: true, pendingTasks: 0, running: [stuck], committed: done };
    const bench = { ...DEFAULT_SPECULATION, minRunMs: 6_000 };
    expect(chooseBackups(snapshot, { liveWorkers: 3, idleWorkers: 2, backupsInFlight: 0 }, now, bench)).toEqual(['m-00000']);
    // Not before it has run twice the mean attempt (its rate is then half the mean's).
    expect(chooseBackups(snapshot, { liveWorkers: 3, idleWorkers: 2, backupsInFlight: 0 }, stuck.startedAt + 5_700, { ...bench, minRunMs: 0 })).toEqual([]);
  });

  it('backs up a straggler whose progress stalled short of its split as soon as the phase has no pending task', () => {
    // The checker's view 9.0 s into a bench job (2026-11-26, 8 maps of 2.5 s on 3 workers,
    // the 8th map claimed at 8.9 s, one worker idle): m-00000's mapper slept with 193 506 of
    // its 239 174 bytes written into its stdin (p = 0.81) since 0.4 s. LATE's time left,
    // 0.19 / 0.81 × 9 s = 2.1 s, was under a fresh attempt's 2.9 s, so the backup was only
    // posted at 12.2 s, when the elapsed time had grown it past 2.9 s.
    const start = 1_000_000;
    const stuck: RunningTask = { taskId: 'm-00000', startedAt: start, bytesDone: 193_506, bytesTotal: 239_174, hasBackup: false };
    const last: RunningTask = { taskId: 'm-00007', startedAt: start + 8_900, bytesDone: 193_506, bytesTotal: 239_174, hasBackup: false };
    const done = statsOf([2_850, 2_900, 2_950, 2_880, 2_920, 3_010], 239_174);
    const snapshot: PhaseSnapshot = { enabled: true, pendingTasks: 0, running: [stuck, last], committed: done };
    const bench = { ...DEFAULT_SPECULATION, minRunMs: 6_000, stalledMs: 2_000 };
    const idle = { liveWorkers: 3, idleWorkers: 1, backupsInFlight: 0 };
    const now = start + 9_000;
    const stalled = { ...snapshot, running: [{ ...stuck, progressAt: start + 400 }, { ...last, progressAt: start + 9_000 }] };
    expect(chooseBackups(stalled, idle, now, bench)).toEqual(['m-00000']);
    // Bytes still moving (or not reported): LATE's 2.1 s left stands, no backup yet.
    expect(chooseBackups({ ...snapshot, running: [{ ...stuck, progressAt: now - 500 }, last] }, idle, now, bench)).toEqual([]);
    expect(chooseBackups(snapshot, idle, now, bench)).toEqual([]);
  });

  it('skips a slow task that a fresh attempt would not beat', () => {
    // 99 % done in 19.8 s: slow (rate 5e-5 against a mean of 1e-3), but 200 ms left,
    // while a fresh attempt takes the mean 1 s.
    const nearlyDone = running('m-3', 19_800, 990);
    expect(estimate(nearlyDone, NOW).rate).toBeLessThan(policy.slowFactor / 1000);
    expect(chooseBackups(phase([nearlyDone]), fleet, NOW, policy)).toEqual([]);
  });
});

describe('committed stats (the sums each winning commit adds to the job record)', () => {
  it('count, Σ duration, Σ duration², Σ bytes; mean and population σ as Hadoop computes them', () => {
    const ds = [2_850, 2_900, 2_950, 2_880, 2_920, 3_010, 2_870];
    const s = statsOf(ds, 239_174);
    expect(s).toEqual({ count: 7, sumMs: 20_380, sumSqMs: ds.reduce((a, d) => a + d * d, 0), sumBytes: 7 * 239_174 });
    const mean = 20_380 / 7;
    expect(meanMs(s)).toBeCloseTo(mean, 9);
    expect(stdDevMs(s)).toBeCloseTo(Math.sqrt(ds.reduce((a, d) => a + (d - mean) ** 2, 0) / 7), 6);
    expect(meanMs(NO_COMMITTED)).toBeUndefined();
    expect(stdDevMs(NO_COMMITTED)).toBe(0);
    // Equal durations: σ is 0, not NaN from a rounding below zero.
    expect(stdDevMs(statsOf([2_911.3, 2_911.3, 2_911.3]))).toBeGreaterThanOrEqual(0);
  });

  it("reads the current step's sums of one kind off the job record; none (an older record) is no commit", () => {
    const job = {
      mapStatCount: 2,
      mapStatMs: 3000,
      mapStatMsSq: 5_000_000,
      mapStatBytes: 200,
      reduceStatCount: 1,
      reduceStatMs: 700,
      reduceStatMsSq: 490_000,
    } as Partial<JobRecord> as JobRecord;
    expect(committedStats(job, 'map')).toEqual({ count: 2, sumMs: 3000, sumSqMs: 5_000_000, sumBytes: 200 });
    expect(committedStats(job, 'reduce')).toEqual({ count: 1, sumMs: 700, sumSqMs: 490_000, sumBytes: 0 });
    expect(committedStats({} as JobRecord, 'map')).toEqual(NO_COMMITTED);
    expect(committedStats({ ...job, mapStatCount: 0 }, 'map')).toEqual(NO_COMMITTED);
  });

  it('slow means a projected runtime over mean / slowFactor, and over mean + σ in a widely varying phase', () => {
    expect(slowRuntimeMs(committed, policy)).toBe(2000);
    // Three 0.5 s tasks and one 6.5 s one: mean 2 s, σ 2.6 s, so 4.6 s rather than 4 s.
    const varied = statsOf([500, 500, 500, 6500]);
    expect(slowRuntimeMs(varied, policy)).toBeCloseTo(2000 + Math.sqrt(6_750_000), 6);
    expect(slowRuntimeMs(NO_COMMITTED, policy)).toBeUndefined();
  });
});

describe('chooseBackups from committed stats', () => {
  it('waits while no attempt of the phase committed (no reference), even for a straggler', () => {
    const stuck = running('m-3', 5000, 100);
    expect(chooseBackups(phase([stuck], { committed: NO_COMMITTED }), fleet, NOW, policy)).toEqual([]);
    // The first commit gives the reference: the same sweep state then backs it up.
    expect(chooseBackups(phase([stuck], { committed: statsOf([1000]) }), fleet, NOW, policy)).toEqual(['m-3']);
  });

  it('does not back up an ordinary long task of a phase whose durations vary widely (σ bound)', () => {
    const varied = statsOf([500, 500, 500, 6500]);
    // Half done in 2.15 s: projected 4.3 s, over twice the mean (4 s) but under mean + σ (4.6 s).
    const longish = running('r-1', 2150, 500);
    expect(chooseBackups(phase([longish], { committed: varied }), fleet, NOW, policy)).toEqual([]);
    // The same mean with no spread (four 2 s tasks, σ 0): the 4 s bound alone, so it is backed up.
    expect(chooseBackups(phase([longish], { committed: statsOf([2000, 2000, 2000, 2000]) }), fleet, NOW, policy)).toEqual(['r-1']);
    // Still half done at 2.4 s: projected 4.8 s, an outlier by either bound, and 2.4 s left > a fresh 2 s.
    expect(chooseBackups(phase([running('r-1', 2400, 500)], { committed: varied }), fleet, NOW, policy)).toEqual(['r-1']);
  });
});

describe('speculationEnabled', () => {
  it('on by default, one flag for both phases, or one per phase', () => {
    expect(speculationEnabled(undefined, 'map')).toBe(true);
    expect(speculationEnabled(false, 'reduce')).toBe(false);
    expect(speculationEnabled({ map: false }, 'map')).toBe(false);
    expect(speculationEnabled({ map: false }, 'reduce')).toBe(true);
  });
});

describe('speculativeFromJobConf', () => {
  it("reads Hadoop's keys (and the Hadoop 1 names); a bad value names the key", () => {
    expect(speculativeFromJobConf({})).toBeUndefined();
    expect(speculativeFromJobConf({ 'mapreduce.map.speculative': 'false' })).toEqual({ map: false });
    expect(speculativeFromJobConf({ 'mapred.reduce.tasks.speculative.execution': 'TRUE' })).toEqual({ reduce: true });
    expect(() => speculativeFromJobConf({ 'mapreduce.reduce.speculative': 'no' })).toThrow(/mapreduce.reduce.speculative must be true or false/);
  });
});

describe('jobSpeculates', () => {
  it('a jobconf key wins over the manifest field, per phase; both default to on', () => {
    expect(jobSpeculates(undefined, 'map')).toBe(true);
    expect(jobSpeculates({ speculative: false, jobconf: { 'mapreduce.map.speculative': 'true' } }, 'map')).toBe(true);
    expect(jobSpeculates({ speculative: false, jobconf: { 'mapreduce.map.speculative': 'true' } }, 'reduce')).toBe(false);
    expect(jobSpeculates({ jobconf: { 'mapred.reduce.tasks.speculative.execution': 'false' } }, 'reduce')).toBe(false);
    expect(jobSpeculates({ jobconf: {} }, 'reduce')).toBe(true);
  });
});
