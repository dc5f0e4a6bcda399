import { describe, expect, it } from 'vitest';
import { ManifestError } from './errors.js';
import { shuffleCodecOf } from './job-settings.js';
import { isMapOnly, validateManifest } from './manifest.js';

const base = { input: 's3://in-bucket/data/', output: 's3://out-bucket/x/', mapper: 'cat', reducer: 'cat' };

describe('manifest jobconf', () => {
  it('applies Hadoop keys to the fields they control, idempotently', () => {
    const m = validateManifest({
      ...base,
      jobconf: { 'mapreduce.job.reduces': '3', 'mapred.map.max.attempts': '6', 'mapreduce.task.timeout': '90500', 'mapreduce.job.maps': '7', 'io.sort.factor': '5' },
    });
    expect(m).toMatchObject({ numReducers: 3, maxAttempts: 6, taskTimeoutSeconds: 91, numMappers: 7, sortFactor: 5 });
    expect(validateManifest(m)).toEqual(m);
  });

  it('mapreduce.job.reduces=0 (or numReducers 0) is map-only', () => {
    expect(isMapOnly(validateManifest({ ...base, jobconf: { 'mapreduce.job.reduces': '0' } }).steps[0]!)).toBe(true);
    expect(isMapOnly(validateManifest({ ...base, numReducers: 0 }).steps[0]!)).toBe(true);
    expect(isMapOnly(validateManifest(base).steps[0]!)).toBe(false);
  });

  it('names every bad jobconf value in the manifest error', () => {
    expect(() => validateManifest({ ...base, jobconf: { 'mapreduce.job.reduces': '-1' } })).toThrow(ManifestError);
    expect(() => validateManifest({ ...base, jobconf: { 'mapreduce.job.reduces': '-1' } })).toThrow(/mapreduce\.job\.reduces/);
  });

  it('accepts total order alone and refuses it with key-field options (the split points are whole input keys)', () => {
    const totalOrder = { 'mapreduce.job.partitioner.class': 'total-order' };
    expect(validateManifest({ ...base, jobconf: totalOrder }).jobconf).toEqual(totalOrder);
    expect(() => validateManifest({ ...base, jobconf: { ...totalOrder, 'stream.num.map.output.key.fields': '2' } })).toThrow(
      /total-order partitioner/,
    );
  });

  it('refuses key-field options for module steps', () => {
    expect(() =>
      validateManifest({ ...base, mapper: { module: 'm.mjs' }, jobconf: { 'stream.num.map.output.key.fields': '2' } }),
    ).toThrow(/module/);
  });

  it('keeps unknown keys, and a job without key-field keys has no shuffle codec', () => {
    const m = validateManifest({ ...base, jobconf: { 'my.key': 'v' } });
    expect(m.jobconf).toEqual({ 'my.key': 'v' });
    expect(shuffleCodecOf(m)).toBeUndefined();
  });
});
