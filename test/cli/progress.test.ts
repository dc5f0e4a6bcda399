/**
 * The progress renderers, called directly: plain lines on a non-TTY stream (the
 * phases and task counts, throttled, always the final state), JSON events, the
 * live multi-bar display, and the throughput/ETA arithmetic. (The real CLI's
 * plain lines on a pipe are checked in run.test.ts and local-stack.test.ts.)
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { memoryIo } from '../../cli/io.js';
import {
  createProgressReporter,
  etaSeconds,
  formatDuration,
  formatProgressLine,
  fractionDone,
  plainReporter,
  type ProgressSnapshot,
  throughputMBps,
  ttyReporter,
} from '../../cli/progress.js';

const snap = (o: Partial<ProgressSnapshot> = {}): ProgressSnapshot => ({
  jobId: 'job-1',
  status: 'RUNNING',
  phase: 'MAP',
  map: { done: 0, running: 2, total: 2 },
  reduce: { done: 0, running: 0, total: 2 },
  inputBytes: 20_000_000,
  mapBytesDone: 0,
  elapsedMs: 1000,
  ...o,
});

describe('plain progress on a non-TTY stream', () => {
  it('says in advance whether an update would print, so the task query is skipped when not', () => {
    const io = memoryIo(false);
    let now = 0;
    const r = plainReporter(io, 3000, () => now);
    expect(r.wouldShow?.('RUNNING', 'MAP')).toBe(true); // nothing printed yet
    r.update(snap());
    now = 1000;
    expect(r.wouldShow?.('RUNNING', 'MAP')).toBe(false); // same state, within the interval
    expect(r.wouldShow?.('RUNNING', 'REDUCE')).toBe(true); // a phase change always prints
    expect(r.wouldShow?.('SUCCEEDED', 'MAP')).toBe(true); // so does a status change
    now = 3000;
    expect(r.wouldShow?.('RUNNING', 'MAP')).toBe(true); // the interval is up
    // The live display and the JSON events show every update.
    expect('wouldShow' in createProgressReporter(memoryIo(false), true)).toBe(false);
  });

  it('prints the phases and task counts on stderr, at most every few seconds, and every state change', () => {
    const io = memoryIo(false);
    let now = 0;
    const r = plainReporter(io, 3000, () => now);
    r.update(snap());
    now = 1000;
    r.update(snap({ map: { done: 1, running: 1, total: 2 }, mapBytesDone: 10_000_000, elapsedMs: 2000 })); // throttled
    now = 3500;
    r.update(snap({ map: { done: 1, running: 1, total: 2 }, mapBytesDone: 10_000_000, elapsedMs: 4000 }));
    now = 3600;
    r.update(snap({ phase: 'REDUCE', map: { done: 2, running: 0, total: 2 }, reduce: { done: 0, running: 2, total: 2 }, mapBytesDone: 20_000_000, elapsedMs: 5000 }));
    now = 3700;
    r.update(snap({ status: 'SUCCEEDED', phase: 'DONE', map: { done: 2, running: 0, total: 2 }, reduce: { done: 2, running: 0, total: 2 }, mapBytesDone: 20_000_000, elapsedMs: 6000 }));
    r.stop();
    expect(io.stdout).toBe('');
    expect(io.stderr.split('\n').filter(Boolean)).toEqual([
      'job job-1 RUNNING phase MAP | map 0/2 done, 2 running | reduce 0/2 done, 0 running | 0.00 MB/s | elapsed 1s',
      'job job-1 RUNNING phase MAP | map 1/2 done, 1 running | reduce 0/2 done, 0 running | 2.50 MB/s | elapsed 4s | ETA 7s',
      'job job-1 RUNNING phase REDUCE | map 2/2 done, 0 running | reduce 0/2 done, 2 running | 4.00 MB/s | elapsed 5s | ETA 2s',
      'job job-1 SUCCEEDED phase DONE | map 2/2 done, 0 running | reduce 2/2 done, 0 running | 3.33 MB/s | elapsed 6s',
    ]);
  });

  it('is what createProgressReporter picks when stderr is not a TTY; --json gives JSON events on stdout instead', () => {
    const plain = memoryIo(false);
    createProgressReporter(plain, false).update(snap({ map: { done: 2, running: 0, total: 2 } }));
    expect(plain.stderr).toMatch(/map 2\/2 done, 0 running \| reduce 0\/2 done/);
    expect(plain.stdout).toBe('');

    const json = memoryIo(true);
    const r = createProgressReporter(json, true);
    r.update(snap({ map: { done: 1, running: 1, total: 2 }, mapBytesDone: 10_000_000, elapsedMs: 2000 }));
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toEqual({
      event: 'progress',
      jobId: 'job-1',
      status: 'RUNNING',
      phase: 'MAP',
      map: { done: 1, running: 1, total: 2 },
      reduce: { done: 0, running: 0, total: 2 },
      inputBytes: 20_000_000,
      mapBytesDone: 10_000_000,
      elapsedMs: 2000,
      mbPerSecond: 5,
      etaSeconds: 4,
      mapEtaSeconds: null, // the phase's start is unknown in this snapshot
      reduceEtaSeconds: null,
      attempts: [],
    });
  });

  it('names a map-only job as such', () => {
    expect(formatProgressLine(snap({ reduce: { done: 0, running: 0, total: 0 } }))).toMatch(/\| reduce none \(map-only\) \|/);
  });
});

describe('live bars (cli-progress)', () => {
  it('renders one bar per phase with done/total, running and throughput', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => {
      text += d.toString();
    });
    const r = ttyReporter(stream);
    r.update(snap({ phase: 'REDUCE', map: { done: 2, running: 0, total: 2 }, reduce: { done: 1, running: 1, total: 2, elapsedSeconds: 3 }, mapBytesDone: 20_000_000, elapsedMs: 4000 }));
    r.stop();
    // Each phase has its own ETA: the map phase is done, the reduce phase did 1 of 2 in 3 s.
    expect(text).toMatch(/ map {4}\[[█░]+\] 2\/2 tasks \| 0 running \| 5\.00 MB\/s \| done/);
    expect(text).toMatch(/ reduce \[[█░]+\] 1\/2 tasks \| 1 running \| phase reduce \| ETA 3s/);
  });
});

describe('throughput and ETA', () => {
  it('computes MB/s over the map input, and the ETA from the fraction done (map 70%, reduce 30%)', () => {
    expect(throughputMBps(snap({ mapBytesDone: 5_000_000, elapsedMs: 2000 }))).toBe(2.5);
    expect(throughputMBps(snap({ elapsedMs: 0 }))).toBe(0);
    expect(fractionDone(snap({ mapBytesDone: 10_000_000 }))).toBeCloseTo(0.35);
    expect(fractionDone(snap({ mapBytesDone: 20_000_000, reduce: { done: 1, running: 1, total: 2 } }))).toBeCloseTo(0.85);
    expect(fractionDone(snap({ inputBytes: 0, map: { done: 1, running: 0, total: 4 }, reduce: { done: 0, running: 0, total: 0 } }))).toBe(0.25);
    expect(etaSeconds(snap())).toBeUndefined(); // nothing done yet: unknown
    expect(etaSeconds(snap({ mapBytesDone: 10_000_000, elapsedMs: 7000 }))).toBe(13);
    expect(etaSeconds(snap({ status: 'FAILED' }))).toBe(0);
    expect([formatDuration(5), formatDuration(65), formatDuration(3725)]).toEqual(['5s', '1m05s', '1h02m']);
  });
});
