import { describe, expect, it } from 'vitest';
import { InvalidKeyError } from './errors.js';
import { globToRegExp, resolveInputs, splitInputList, type ListedObject } from './input-listing.js';

const KEYS = [
  'logs/2026-11-01/a.txt',
  'logs/2026-11-01/_SUCCESS',
  'logs/2026-11-01/.a.txt.crc',
  'logs/2026-11-02/b.txt',
  'logs/2026-11-02/_logs/history.txt',
  'logs/2026-12-01/c.txt',
  'logs/2026-11-03/sub/d.txt',
  'logs/_temporary/0/x.txt',
  'one.txt',
  'two.txt',
  '_hidden.txt',
  'only-hidden/_SUCCESS',
  'dir/',
];
const objects: ListedObject[] = KEYS.map((key) => ({ bucket: 'b', key, size: 1 }));
const list = async (bucket: string, prefix: string) => objects.filter((o) => o.bucket === bucket && o.key.startsWith(prefix));
const keys = async (inputs: string[], recursive = false, ignoreSubdirs = false) =>
  (await resolveInputs(inputs, list, { recursive, ignoreSubdirs })).map((o) => o.key);

describe('splitInputList', () => {
  it('splits on commas outside braces', () => {
    expect(splitInputList(['s3://b/a,s3://b/{x,y}/z', ' s3://b/c '])).toEqual(['s3://b/a', 's3://b/{x,y}/z', 's3://b/c']);
  });
});

describe('globToRegExp', () => {
  it('supports *, ?, classes, negation, alternation and escapes; * stays in one component', () => {
    expect(globToRegExp('a/*.txt').test('a/x.txt')).toBe(true);
    expect(globToRegExp('a/*.txt').test('a/b/x.txt')).toBe(false);
    expect(globToRegExp('f?[0-3]').test('fa2')).toBe(true);
    expect(globToRegExp('f[^0-3]').test('f2')).toBe(false);
    expect(globToRegExp('{one,two}.txt').test('two.txt')).toBe(true);
    expect(globToRegExp('a\\*').test('a*')).toBe(true);
    expect(globToRegExp('a\\*').test('ab')).toBe(false);
    expect(() => globToRegExp('a{b')).toThrow(InvalidKeyError);
  });
});

describe('resolveInputs', () => {
  it('reads several inputs and comma lists, each object once', async () => {
    expect(await keys(['s3://b/one.txt', 's3://b/two.txt'])).toEqual(['one.txt', 'two.txt']);
    expect(await keys(['s3://b/one.txt,s3://b/two.txt,s3://b/one.txt'])).toEqual(['one.txt', 'two.txt']);
  });

  it('expands globs to files and directories, skipping hidden names', async () => {
    expect(await keys(['s3://b/logs/2026-11-0[12]/'])).toEqual(['logs/2026-11-01/a.txt', 'logs/2026-11-02/b.txt']);
    expect(await keys(['s3://b/logs/*/*.txt'])).toEqual([
      'logs/2026-11-01/a.txt',
      'logs/2026-11-02/b.txt',
      'logs/2026-12-01/c.txt',
    ]);
    expect(await keys(['s3://b/{one,two}.txt'])).toEqual(['one.txt', 'two.txt']);
  });

  it('refuses a subdirectory without --recursive, skips it with ignoreSubdirs, reads it with recursive', async () => {
    await expect(keys(['s3://b/logs/2026-11-03/'])).rejects.toThrow(/--recursive/);
    expect(await keys(['s3://b/logs/2026-11-03'], false, true)).toEqual([]);
    expect(await keys(['s3://b/logs/'], true)).toEqual([
      'logs/2026-11-01/a.txt',
      'logs/2026-11-02/b.txt',
      'logs/2026-11-03/sub/d.txt',
      'logs/2026-12-01/c.txt',
    ]);
  });

  it('an input matching nothing is an error; a directory of hidden files is empty input', async () => {
    await expect(keys(['s3://b/nope/'])).rejects.toThrow(InvalidKeyError);
    await expect(keys(['s3://b/logs/2027-*/'])).rejects.toThrow(/matches no files/);
    await expect(keys(['s3://b/_hidden.txt'])).rejects.toThrow(InvalidKeyError);
    expect(await keys(['s3://b/only-hidden/'])).toEqual([]);
  });
});
