import { describe, expect, it } from 'vitest';
import { InvalidKeyError, UsageError } from './errors.js';
import { asPrefix, assertUnderPrefix, formatS3Uri, parseS3Uri, validateKey } from './s3uri.js';

describe('parseS3Uri', () => {
  it('splits bucket and key; the key may be empty or a prefix', () => {
    expect(parseS3Uri('s3://my-bucket/in/data.txt')).toEqual({ bucket: 'my-bucket', key: 'in/data.txt' });
    expect(parseS3Uri('s3://my-bucket/in/')).toEqual({ bucket: 'my-bucket', key: 'in/' });
    expect(parseS3Uri('s3://my-bucket')).toEqual({ bucket: 'my-bucket', key: '' });
    expect(parseS3Uri('s3://my-bucket/')).toEqual({ bucket: 'my-bucket', key: '' });
    expect(parseS3Uri('s3://b.with.dots/a b/ü.txt').key).toBe('a b/ü.txt');
  });

  it('refuses what is not an s3:// URI, with an example of one', () => {
    for (const bad of ['bkt/key', 's3:/bkt/key', 'S3://bkt/key', 'https://bkt.s3.amazonaws.com/k', 's3://', '']) {
      expect(() => parseS3Uri(bad), bad).toThrow(/^Invalid S3 URI ".*": expected s3:\/\/<bucket>\/<key>, for example s3:\/\/my-bucket\/input\/$/);
    }
  });

  it('refuses invalid bucket names', () => {
    for (const bad of ['s3://Bad_Bucket/x', 's3://ab/x', 's3://-bucket/x', `s3://${'a'.repeat(64)}/x`]) {
      expect(() => parseS3Uri(bad), bad).toThrow(/is not a valid bucket name \(3-63 lowercase letters, digits, dots, dashes\)/);
    }
  });

  it('refuses keys with "..", "." or empty segments, backslashes and control characters', () => {
    for (const bad of ['s3://bkt/a/../b', 's3://bkt/..', 's3://bkt/a/./b', 's3://bkt/a//b', 's3://bkt//a']) {
      expect(() => parseS3Uri(bad), bad).toThrow(/"\.", "\.\." and empty path segments are not allowed; name the object directly\./);
    }
    for (const bad of ['s3://bkt/a\\b', 's3://bkt/a\tb', 's3://bkt/a\u0000b']) {
      expect(() => parseS3Uri(bad), JSON.stringify(bad)).toThrow(/control characters and backslashes are not allowed/);
    }
    expect(() => parseS3Uri('s3://bkt/a\nb')).toThrow(InvalidKeyError);
    // a name merely containing dots is fine
    expect(parseS3Uri('s3://bkt/a..b/.hidden/x.').key).toBe('a..b/.hidden/x.');
  });

  it('throws InvalidKeyError, a UsageError (the CLI exits 2 without a stack trace)', () => {
    let err: unknown;
    try {
      parseS3Uri('s3://bkt/../x');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidKeyError);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as InvalidKeyError).context).toEqual({ key: '../x' });
  });
});

describe('keys and prefixes', () => {
  it('validateKey accepts a prefix with a trailing slash and the empty key', () => {
    expect(() => validateKey('jobs/j1/')).not.toThrow();
    expect(() => validateKey('')).not.toThrow();
    expect(() => validateKey('jobs//x')).toThrow(InvalidKeyError);
  });

  it('asPrefix and formatS3Uri', () => {
    expect(asPrefix({ bucket: 'b', key: 'out' })).toEqual({ bucket: 'b', key: 'out/' });
    expect(asPrefix({ bucket: 'b', key: 'out/' })).toEqual({ bucket: 'b', key: 'out/' });
    expect(asPrefix({ bucket: 'b', key: '' })).toEqual({ bucket: 'b', key: '' });
    expect(formatS3Uri({ bucket: 'b', key: 'k/x' })).toBe('s3://b/k/x');
  });

  it("assertUnderPrefix refuses a key outside the job's prefix, or one escaping it with ..", () => {
    expect(() => assertUnderPrefix('jobs/j1/files/wc.sh', 'jobs/j1/files/')).not.toThrow();
    expect(() => assertUnderPrefix('jobs/j2/files/wc.sh', 'jobs/j1/files/')).toThrow(/S3 key "jobs\/j2\/files\/wc\.sh" is outside the job's prefix "jobs\/j1\/files\/"/);
    expect(() => assertUnderPrefix('jobs/j1/files/../../j2/x', 'jobs/j1/files/')).toThrow(/empty path segments are not allowed/);
  });
});
