import { describe, expect, it } from 'vitest';
import { parseManifest } from '../core/manifest.js';
import type { JobRecord } from '../core/model.js';
import { REDACTED, redactJob } from './redact.js';

const manifest = parseManifest(
  JSON.stringify({
    input: 's3://my-bucket/in/',
    output: 's3://my-bucket/out/',
    mapper: 'cat',
    reducer: 'cat',
    env: { API_TOKEN: 'very-secret-token', MODE: 'fast' },
  }),
);
const job = {
  jobId: '20261126-153000-ab12cd',
  status: 'RUNNING',
  phase: 'MAP',
  manifest,
  numMaps: 1,
  numReduces: 1,
  mapsCommitted: 0,
  reducesCommitted: 0,
  inputBytes: 1,
  counters: {},
  createdAt: '2026-11-26T15:30:00.000Z',
  updatedAt: '2026-11-26T15:30:00.000Z',
} as JobRecord;

describe('redactJob', () => {
  it('keeps the env keys and hides every value, leaving the record untouched', () => {
    const shown = redactJob(job);
    expect(shown.manifest?.env).toEqual({ API_TOKEN: REDACTED, MODE: REDACTED });
    expect(JSON.stringify(shown)).not.toContain('very-secret-token');
    expect(shown.manifest?.steps).toEqual(manifest.steps);
    expect(job.manifest?.env.API_TOKEN).toBe('very-secret-token');
  });

  it('passes a record without a manifest (a refused submission) through', () => {
    const refused = { ...job, manifest: undefined, status: 'FAILED', reason: 'bad' } as JobRecord;
    expect(redactJob(refused)).toBe(refused);
  });
});
