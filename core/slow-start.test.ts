import { describe, expect, it } from 'vitest';
import { DEFAULT_REDUCE_SLOWSTART, nextPollDelay, pollPolicy, reduceReleaseThreshold, shouldReleaseReduces, type ReleaseView } from './slow-start.js';

describe('reduceReleaseThreshold', () => {
  it('is ceil(f × M), as Hadoop computes completedMapsForReduceSlowstart', () => {
    expect(reduceReleaseThreshold(0.25, 8)).toBe(2);
    expect(reduceReleaseThreshold(0.25, 9)).toBe(3);
    expect(reduceReleaseThreshold(0.05, 100)).toBe(5);
    expect(reduceReleaseThreshold(0.05, 3)).toBe(1);
    expect(reduceReleaseThreshold(0.5, 1)).toBe(1);
  });
  it('f = 0 needs no map, f = 1 needs every map', () => {
    expect(reduceReleaseThreshold(0, 7)).toBe(0);
    expect(reduceReleaseThreshold(1, 7)).toBe(7);
    expect(reduceReleaseThreshold(DEFAULT_REDUCE_SLOWSTART, 7)).toBe(7);
  });
  it('does not round a product up past an exact whole number (0.07 × 100 is 7.000000000000001 in binary)', () => {
    expect(0.07 * 100).toBeGreaterThan(7);
    expect(reduceReleaseThreshold(0.07, 100)).toBe(7);
    expect(reduceReleaseThreshold(0.55, 100)).toBe(55);
    expect(reduceReleaseThreshold(0.3, 10)).toBe(3);
  });
  it('stays within [0, M] for M = 0 and small M', () => {
    expect(reduceReleaseThreshold(0.5, 0)).toBe(0);
    expect(reduceReleaseThreshold(0.99, 2)).toBe(2);
    expect(reduceReleaseThreshold(0.01, 2)).toBe(1);
  });
});

describe('shouldReleaseReduces', () => {
  const job = (over: Partial<ReleaseView> = {}): ReleaseView => ({
    status: 'RUNNING',
    phase: 'MAP',
    numMaps: 8,
    numReduces: 2,
    mapsCommitted: 2,
    ...over,
  });
  it('releases once enough maps committed, not before', () => {
    expect(shouldReleaseReduces(job({ mapsCommitted: 1 }), 0.25)).toBe(false);
    expect(shouldReleaseReduces(job({ mapsCommitted: 2 }), 0.25)).toBe(true);
    expect(shouldReleaseReduces(job({ mapsCommitted: 5, status: 'CREATING' }), 0.25)).toBe(true);
  });
  it('f = 0 releases before any map committed', () => {
    expect(shouldReleaseReduces(job({ mapsCommitted: 0 }), 0)).toBe(true);
  });
  it('f = 1 (the default) never releases early: the phase change sends the reduces', () => {
    for (let committed = 0; committed <= 8; committed++) {
      expect(shouldReleaseReduces(job({ mapsCommitted: committed }), 1)).toBe(false);
    }
  });
  it('never with every map committed, when released already, outside MAP, without reducers, or for an ended job', () => {
    expect(shouldReleaseReduces(job({ mapsCommitted: 8 }), 0.25)).toBe(false);
    expect(shouldReleaseReduces(job({ reduceReleasedAt: '2026-01-01T00:00:00Z' }), 0.25)).toBe(false);
    expect(shouldReleaseReduces(job({ phase: 'REDUCE' }), 0.25)).toBe(false);
    expect(shouldReleaseReduces(job({ numReduces: 0 }), 0.25)).toBe(false);
    expect(shouldReleaseReduces(job({ status: 'CANCELLED' }), 0.25)).toBe(false);
  });
  it('M = 1: nothing to overlap, never early', () => {
    expect(shouldReleaseReduces(job({ numMaps: 1, mapsCommitted: 0 }), 0.5)).toBe(false);
    expect(shouldReleaseReduces(job({ numMaps: 1, mapsCommitted: 0 }), 0)).toBe(true);
  });
});

describe('nextPollDelay', () => {
  const p = pollPolicy(200);
  it('backs off by doubling up to the maximum while nothing commits, and resets on progress', () => {
    let d = p.minMs;
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) seen.push((d = nextPollDelay(d, false, p)));
    expect(seen).toEqual([400, 800, 800, 800, 800]);
    expect(nextPollDelay(800, true, p)).toBe(p.minMs);
    expect(p).toEqual({ minMs: 200, maxMs: 800 });
  });
});
