import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from './errors.js';
import {
  batchJobId,
  classifyTriggerKey,
  decodeEventKey,
  defaultOutputPrefix,
  fileKey,
  incomingBatchPrefix,
  inputPrefix,
  jobPrefix,
  liveLogKey,
  logKey,
  logsPrefix,
  manifestKey,
  mapOutputKey,
  pipelineConfigKey,
  reduceTempKey,
  tmpPrefix,
} from './layout.js';

describe('key layout', () => {
  it('puts every key of a job under its own prefixes', () => {
    const j = '20261123-221501-ab12cd';
    expect(jobPrefix(j)).toBe(`jobs/${j}/`);
    expect(tmpPrefix(j)).toBe(`tmp/${j}/`);
    expect(manifestKey(j)).toBe(`jobs/${j}/job.json`);
    expect(inputPrefix(j)).toBe(`jobs/${j}/input/`);
    expect(defaultOutputPrefix(j)).toBe(`jobs/${j}/output/`);
    expect(fileKey(j, 'wc_map.sh')).toBe(`jobs/${j}/files/wc_map.sh`);
    expect(logKey(j, 'm-00003', 2)).toBe(`jobs/${j}/logs/m-00003/attempt-2.stderr`);
    expect(liveLogKey(j, 'm-00003', 2)).toBe(`tmp/${j}/live-logs/m-00003/attempt-2.stderr`);
    expect(logsPrefix(j)).toBe(`jobs/${j}/logs/`);
    expect(logsPrefix(j, 'r-00000')).toBe(`jobs/${j}/logs/r-00000/`);
    expect(mapOutputKey(j, 'm-00001', 3)).toBe(`tmp/${j}/map/m-00001/attempt-3`);
    expect(reduceTempKey(j, 'r-00001', 1)).toBe(`tmp/${j}/out/r-00001/attempt-1`);
  });

  it('refuses job ids and file names that would leave the job prefix', () => {
    for (const bad of ['../x', 'a/b', '..', '', 'a..b', '-x', `x${'y'.repeat(128)}`]) {
      expect(() => jobPrefix(bad), bad).toThrow(InvalidKeyError);
    }
    expect(() => manifestKey('../other')).toThrow(/Invalid job id "\.\.\/other": use letters, digits, "\.", "_" and "-"/);
    expect(() => fileKey('j1', '../../pipelines/p.json')).toThrow(InvalidKeyError);
    expect(() => fileKey('j1', 'sub/../../x')).toThrow(InvalidKeyError);
  });

  it('pipeline keys and batch job ids', () => {
    expect(pipelineConfigKey('logs')).toBe('pipelines/logs.json');
    expect(incomingBatchPrefix('logs', '2026-11-23')).toBe('incoming/logs/2026-11-23/');
    expect(batchJobId('logs', '2026-11-23')).toBe('logs.2026-11-23');
  });
});

describe('classifyTriggerKey', () => {
  it('recognises manifests and _READY markers', () => {
    expect(classifyTriggerKey('jobs/j-1/job.json')).toEqual({ kind: 'manifest', jobId: 'j-1' });
    expect(classifyTriggerKey('incoming/logs/b1/_READY')).toEqual({ kind: 'ready', pipeline: 'logs', batch: 'b1' });
  });

  it('refuses (visibly, not silently) a job id or pipeline/batch name it cannot accept', () => {
    for (const key of ['jobs/a..b/job.json', 'jobs/my job/job.json', 'jobs/naïve/job.json', `jobs/${'x'.repeat(129)}/job.json`]) {
      const t = classifyTriggerKey(key);
      expect(t.kind, key).toBe('refused');
      expect(t.kind === 'refused' && t.why, key).toMatch(/^the job id .* cannot be accepted/);
    }
    for (const key of ['incoming/../b/_READY', 'incoming/my pipe/b/_READY', 'incoming/p/bätch/_READY']) {
      const t = classifyTriggerKey(key);
      expect(t.kind, key).toBe('refused');
      expect(t.kind === 'refused' && t.why, key).toMatch(/pipeline or batch name/);
    }
  });

  it('ignores everything else, saying why', () => {
    expect(classifyTriggerKey('jobs/j-1/files/job.json')).toMatchObject({ kind: 'ignored' });
    expect(classifyTriggerKey('incoming/p/b/c/_READY')).toMatchObject({ kind: 'ignored' });
    expect(classifyTriggerKey('tmp/j/map/m-00000/attempt-1')).toEqual({
      kind: 'ignored',
      why: '"tmp/j/map/m-00000/attempt-1" is neither jobs/<jobId>/job.json nor incoming/<pipeline>/<batch>/_READY',
    });
  });

  it('decodes S3 event keys (URL encoding, + for space)', () => {
    expect(decodeEventKey('jobs/j-1/job.json')).toBe('jobs/j-1/job.json');
    expect(decodeEventKey('incoming/p/my+batch/%C3%BC_READY')).toBe('incoming/p/my batch/ü_READY');
  });
});
