import { describe, expect, it } from 'vitest';
import { costLine } from '../core/cost.js';
import type { JobRecord } from '../core/model.js';
import { memoryIo } from './io.js';
import { reportFinished } from './report.js';

const job = {
  jobId: 'j',
  status: 'SUCCEEDED',
  manifest: { output: 's3://b/out/' },
  numMaps: 1,
  numReduces: 0,
  counters: {},
  createdAt: '2026-11-26T10:00:00.000Z',
  finishedAt: '2026-11-26T10:00:05.000Z',
} as unknown as JobRecord;

describe('reportFinished', () => {
  it('ends with the modeled cost line, and has costUsd in the JSON result', () => {
    const io = memoryIo();
    expect(reportFinished(io, job, { json: false, costUsd: 0.0031 })).toBe(0);
    expect(io.stdout.trimEnd().split('\n').at(-1)).toBe(costLine(0.0031));
    expect(costLine(0.0031)).toBe('≈ $0.0031 on AWS');
    const json = memoryIo();
    reportFinished(json, job, { json: true, costUsd: 0.0031 });
    expect(JSON.parse(json.stdout)).toMatchObject({ event: 'result', costUsd: 0.0031 });
  });
});
