import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from '../core/errors.js';
import { checkJobId, checkPipelineName, outputLocationProblem, RESERVED_PREFIXES } from './submission.js';

const B = 'jobs-bkt';
const at = (output: string, input: string | string[] = `s3://${B}/data/in/`) =>
  outputLocationProblem(B, 'job-1', { input, output });

describe('outputLocationProblem', () => {
  it.each([...RESERVED_PREFIXES])('refuses the reserved area %j of the job bucket', (prefix) => {
    expect(at(`s3://${B}/${prefix}x/`)).toMatch(/is inside the framework's own area of the job bucket/);
  });
  it('refuses the root of the job bucket', () => {
    expect(at(`s3://${B}/`)).toMatch(/own area/);
    expect(at(`s3://${B}`)).toMatch(/own area/);
  });
  it("refuses another job's folder and the job's own folder, but allows the job's own output/", () => {
    expect(at(`s3://${B}/jobs/other/output/`)).toMatch(/own area/);
    expect(at(`s3://${B}/jobs/job-1/`)).toMatch(/own area/);
    expect(at(`s3://${B}/jobs/job-1/logs/`)).toMatch(/own area/);
    expect(at(`s3://${B}/jobs/job-1/output/`)).toBeUndefined();
  });
  it('allows reserved names in other buckets and elsewhere in the job bucket', () => {
    expect(at('s3://other-bkt/tmp/x/')).toBeUndefined();
    expect(at(`s3://${B}/results/tmp/`)).toBeUndefined();
  });
  it('refuses an output equal to or inside the input, and an input inside the output', () => {
    expect(at(`s3://${B}/data/in/`)).toMatch(/is the same place as the input/);
    expect(at(`s3://${B}/data/in`)).toMatch(/is the same place as the input/);
    expect(at(`s3://${B}/data/in/out/`)).toMatch(/is inside the input/);
    expect(at(`s3://${B}/data/`)).toMatch(/^Input .* is inside the output/);
    expect(at(`s3://${B}/out/`, [`s3://${B}/a.txt`, `s3://${B}/out/b.txt`])).toMatch(/inside the output/);
  });
  it('compares folders, not string prefixes', () => {
    expect(at(`s3://${B}/data/input/`)).toBeUndefined();
    expect(at(`s3://${B}/data/in-2/`)).toBeUndefined();
    expect(at(`s3://other/data/in/`)).toBeUndefined();
  });
});

describe('key validation', () => {
  it.each(['has space', 'naïve', 'x'.repeat(129), 'a..b', '-lead', ''])('refuses the job id %j', (id) => {
    expect(() => checkJobId(id)).toThrow(InvalidKeyError);
  });
  it('accepts generated-looking ids and names', () => {
    expect(checkJobId('20261123-221501-ab12cd')).toBe('20261123-221501-ab12cd');
    expect(checkPipelineName('clicks.v2', 'pipeline')).toBe('clicks.v2');
    expect(() => checkPipelineName('x'.repeat(65), 'batch')).toThrow(/Invalid batch name/);
  });
});
