import { describe, expect, it } from 'vitest';
import { DoNotRetryError, ManifestError } from '../core/errors.js';
import { batchManifest } from './coordinator.js';
import { parseSubmissionMessages } from './trigger-messages.js';

const uploadsOf = (body: string) => parseSubmissionMessages(body);

const s3Event = (key: string) =>
  JSON.stringify({
    Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: 'jobs-bkt' }, object: { key } } }],
  });

describe('uploadsOf', () => {
  it('decodes URL-encoded keys, with + for spaces', () => {
    expect(uploadsOf(s3Event('jobs/my%2Bjob+1/job.json'))).toEqual([{ kind: 'upload', bucket: 'jobs-bkt', key: 'jobs/my+job 1/job.json' }]);
  });
  it('ignores S3 test events and non-S3 records', () => {
    expect(uploadsOf(JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent' }))).toEqual([]);
    expect(uploadsOf(JSON.stringify({ Records: [{ eventSource: 'aws:sqs' }] }))).toEqual([]);
  });
  it('keeps a key with a malformed escape as it came (it is then refused as a bad id, visibly)', () => {
    expect(uploadsOf(s3Event('jobs/100%/job.json'))).toEqual([{ kind: 'upload', bucket: 'jobs-bkt', key: 'jobs/100%/job.json' }]);
  });
  it('refuses a body that is not JSON as poison (never redelivered)', () => {
    expect(() => uploadsOf('not json')).toThrow(DoNotRetryError);
    expect(() => uploadsOf('null')).toThrow(DoNotRetryError);
  });
  it("reads the coordinator's own follow-ups", () => {
    expect(uploadsOf(JSON.stringify({ kind: 'plan', jobId: 'j' }))).toEqual([{ kind: 'plan', jobId: 'j' }]);
    expect(uploadsOf(JSON.stringify({ kind: 'ready', pipeline: 'p', batch: 'b', deadline: 5 }))).toEqual([
      { kind: 'ready', pipeline: 'p', batch: 'b', deadline: 5 },
    ]);
  });
});

describe('batchManifest', () => {
  const config = JSON.stringify({ output: 's3://jobs-bkt/results/clicks', mapper: 'cat', numReducers: 2, reducer: 'cat' });
  it('uses the batch prefix as input and appends the batch to the output', () => {
    const m = batchManifest(config, 'jobs-bkt', 'clicks', '2026-11-23');
    expect(m.input).toBe('s3://jobs-bkt/incoming/clicks/2026-11-23/');
    expect(m.output).toBe('s3://jobs-bkt/results/clicks/2026-11-23/');
    expect(m.numReducers).toBe(2);
  });
  it('reads the batch folder recursively unless the pipeline config says otherwise', () => {
    const key = 'mapreduce.input.fileinputformat.input.dir.recursive';
    expect(batchManifest(config, 'jobs-bkt', 'clicks', 'b').jobconf[key]).toBe('true');
    const flat = JSON.stringify({ output: 's3://jobs-bkt/o', mapper: 'cat', jobconf: { [key]: 'false' } });
    expect(batchManifest(flat, 'jobs-bkt', 'clicks', 'b').jobconf[key]).toBe('false');
  });
  it('rejects a config that is not JSON or not a valid manifest, naming the field', () => {
    expect(() => batchManifest('{', 'jobs-bkt', 'p', 'b')).toThrow(ManifestError);
    expect(() => batchManifest(JSON.stringify({ output: 's3://jobs-bkt/o/' }), 'jobs-bkt', 'p', 'b')).toThrow(/mapper/);
    expect(() => batchManifest(`${'['.repeat(50)}${']'.repeat(50)}`, 'jobs-bkt', 'p', 'b')).toThrow(/pipeline config pipelines\/p.json: JSON nested deeper/);
  });
});
