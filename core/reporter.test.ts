import { describe, expect, it } from 'vitest';
import {
  addCounters,
  Counters,
  counterKey,
  FRAMEWORK,
  frameworkCounter,
  incrementCounter,
  parseReporterLine,
} from './reporter.js';

describe('parseReporterLine', () => {
  it('parses counters and status messages', () => {
    expect(parseReporterLine('reporter:counter:MyGroup,Bad Records,3')).toEqual({
      kind: 'counter',
      group: 'MyGroup',
      name: 'Bad Records',
      amount: 3,
    });
    expect(parseReporterLine('reporter:counter:g,n,-2\r')).toEqual({
      kind: 'counter',
      group: 'g',
      name: 'n',
      amount: -2,
    });
    expect(parseReporterLine('reporter:status:50% done, almost')).toEqual({
      kind: 'status',
      message: '50% done, almost',
    });
    expect(parseReporterLine('reporter:status:')).toEqual({ kind: 'status', message: '' });
  });

  it('ignores ordinary stderr and malformed reporter lines', () => {
    for (const line of [
      'just a log line',
      'reporter:counter:g,n',
      'reporter:counter:g,n,1,2',
      'reporter:counter:g,n,x',
      'reporter:counter:g,n,1.5',
      'reporter:counter:,n,1',
      'reporter:counter:g,,1',
      'reporter:counter:g,n,99999999999999999999',
      ' reporter:status:x',
      'reporter:other:x',
    ]) {
      expect(parseReporterLine(line)).toBeUndefined();
    }
  });
});

describe('counters', () => {
  it('names counters group.name', () => {
    expect(counterKey('g', 'n')).toBe('g.n');
    expect(FRAMEWORK).toBe('mapreduce');
    expect(frameworkCounter(Counters.MAP_INPUT_RECORDS)).toBe('mapreduce.MAP_INPUT_RECORDS');
    expect(Object.keys(Counters)).toHaveLength(19);
    for (const [k, v] of Object.entries(Counters)) expect(v).toBe(k);
  });

  it('adds counter records without modifying them', () => {
    const a = { x: 1, y: 2 };
    const b = { y: 3, z: 4 };
    expect(addCounters(a, b)).toEqual({ x: 1, y: 5, z: 4 });
    expect(a).toEqual({ x: 1, y: 2 });
    expect(b).toEqual({ y: 3, z: 4 });
    const t: Record<string, number> = {};
    incrementCounter(t, 'k');
    incrementCounter(t, 'k', 5);
    expect(t).toEqual({ k: 6 });
  });
});
