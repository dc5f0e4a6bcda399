import { describe, expect, it } from 'vitest';
import { ManifestError } from './errors.js';
import { isMapOnly, parseManifest, validateManifest } from './manifest.js';
import { jsonDepthExceeds, MANIFEST_LIMITS } from './manifest-limits.js';

const base = { input: 's3://bkt/in/', output: 's3://bkt/out/', mapper: 'cat' };

/** The issues of a manifest text that must be refused. */
function issues(text: string): readonly string[] {
  try {
    parseManifest(text);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    expect((err as ManifestError).message).toMatch(/^Invalid job manifest:\n {2}- /);
    return (err as ManifestError).issues;
  }
  throw new Error(`accepted: ${text}`);
}

const withBase = (extra: Record<string, unknown>) => JSON.stringify({ ...base, ...extra });

describe('parseManifest', () => {
  it('applies defaults to a minimal manifest', () => {
    const m = parseManifest(JSON.stringify(base));
    expect(m).toEqual({ input: base.input, output: base.output, files: [], numReducers: 1, overwrite: false, env: {}, jobconf: {}, steps: [{ mapper: 'cat', numReducers: 1, jobconf: {} }] });
    expect(isMapOnly(m.steps[0]!)).toBe(true);
    expect(isMapOnly(parseManifest(withBase({ reducer: { module: 'wc.mjs' } })).steps[0]!)).toBe(false);
  });

  it('accepts a list of input objects and module steps', () => {
    const m = parseManifest(withBase({ input: ['s3://bkt/a', 's3://bkt/b'], reducer: { module: 'r.mjs' }, numMappers: 3 }));
    expect(m.input).toEqual(['s3://bkt/a', 's3://bkt/b']);
    expect(m.steps[0]?.reducer).toEqual({ module: 'r.mjs' });
  });

  it('invalid JSON, or JSON that is not an object', () => {
    expect(issues('{"input": ')).toEqual([expect.stringMatching(/^not valid JSON: /)]);
    expect(issues('[]')).toEqual(['the manifest must be a JSON object']);
    expect(issues('null')).toEqual(['the manifest must be a JSON object']);
  });

  it('unknown fields are named, with the allowed ones', () => {
    expect(issues(withBase({ reducers: 2 }))).toEqual([expect.stringMatching(/^unknown field "reducers" \(allowed: input, output, mapper, reducer, combiner, steps, files, numReducers/)]);
    expect(issues(withBase({ a: 1, b: 2 }))[0]).toMatch(/^unknown fields "a", "b" \(allowed: /);
    expect(issues(withBase({ mapper: { module: 'm.mjs', extra: true } }))).toEqual(['mapper: unknown field "extra" (allowed: module)']);
  });

  it('wrong types name the field, the expected type and the value given', () => {
    expect(issues(withBase({ numReducers: '2' }))).toEqual(['numReducers: expected number, got "2"']);
    expect(issues(withBase({ overwrite: 'yes' }))).toEqual(['overwrite: expected boolean, got "yes"']);
    expect(issues(withBase({ numReducers: 1.5 }))).toEqual(['numReducers: must be a whole number (got 1.5)']);
    expect(issues(withBase({ mapper: 3 }))).toEqual(['mapper: expected a command line string or {"module": "file.mjs"}, got 3']);
    expect(issues(withBase({ input: 3 }))).toEqual(['input: expected an s3:// URI or a list of s3:// URIs, got 3']);
  });

  it('numReducers: negative (0 is map-only, as Hadoop\'s -numReduceTasks 0)', () => {
    expect(isMapOnly(parseManifest(withBase({ reducer: 'cat', numReducers: 0 })).steps[0]!)).toBe(true);
    expect(issues(withBase({ numReducers: -4 }))).toEqual(['numReducers: must be at least 0 (got -4)']);
  });

  it('a missing or empty mapper', () => {
    expect(issues(JSON.stringify({ input: base.input, output: base.output }))).toEqual(['mapper: is required (or "steps" for a multi-step job)']);
    expect(issues(withBase({ mapper: '   ' }))).toEqual(['mapper: must be a non-empty command line (got "   ")']);
  });

  it('reports every bad field at once', () => {
    expect(issues(JSON.stringify({ numReducers: -1, reducer: 'cat' }))).toEqual([
      'input: is required',
      'output: is required',
      'numReducers: must be at least 0 (got -1)',
      'mapper: is required (or "steps" for a multi-step job)',
    ]);
  });

  it('bad S3 URIs and keys with ".." in any URI field', () => {
    expect(issues(withBase({ input: 's3://bkt/a/../b' }))[0]).toMatch(/^input: Invalid S3 key "s3:\/\/bkt\/a\/\.\.\/b": "\.", "\.\." and empty path segments are not allowed/);
    expect(issues(withBase({ output: 'bkt/out' }))[0]).toMatch(/^output: Invalid S3 URI "bkt\/out": expected s3:\/\/<bucket>\/<key>/);
    expect(issues(withBase({ files: ['s3://Bad/x'] }))[0]).toMatch(/^files\.0: Invalid S3 URI "s3:\/\/Bad\/x": "Bad" is not a valid bucket name/);
    expect(issues(withBase({ input: [] }))).toEqual(['input: must list at least one object']);
  });

  it('inconsistent combinations', () => {
    expect(issues(withBase({ splitSize: 10, numMappers: 2 }))).toEqual(['numMappers: give splitSize or numMappers, not both (got 2)']);
    expect(issues(withBase({ combiner: 'cat' }))).toEqual(['combiner: a combiner needs a reducer (got "cat")']);
  });

  it('validateManifest takes a parsed object', () => {
    expect(validateManifest({ ...base, numReducers: 3 }).numReducers).toBe(3);
    expect(() => validateManifest({ ...base, numReducers: -1 })).toThrow(ManifestError);
    expect(() => validateManifest({ ...base, jobconf: { 'mapreduce.map.speculative': 'yes' } })).toThrow(/mapreduce\.map\.speculative must be true or false/);
  });
});

describe('limits (MANIFEST_LIMITS)', () => {
  const L = MANIFEST_LIMITS;
  it('a manifest over the size limit is refused before it is parsed', () => {
    const text = withBase({ name: 'n'.repeat(L.maxManifestBytes) });
    expect(issues(text)).toEqual([`the manifest is ${text.length} characters; the limit is ${L.maxManifestBytes} bytes`]);
  });
  it('JSON nested past the depth limit is refused without parsing (any bracket, strings aside)', () => {
    const deep = `{"a":${'['.repeat(L.maxJsonDepth)}${']'.repeat(L.maxJsonDepth)}}`;
    expect(issues(deep)).toEqual([`JSON nested deeper than ${L.maxJsonDepth} levels; a manifest needs only a few`]);
    expect(issues(`${'['.repeat(200_000)}`)[0]).toMatch(/nested deeper/);
    expect(jsonDepthExceeds(JSON.stringify({ s: '[[[[[[[[[[[[[[[[[[[[[["[[[' }), 2)).toBe(false);
    expect(jsonDepthExceeds('{"a":{"b":{}}}', 3)).toBe(false);
    expect(jsonDepthExceeds('{"a":{"b":{}}}', 2)).toBe(true);
  });
  it('field limits name the field and the limit, and never echo a long value or an env value', () => {
    const long = issues(withBase({ name: 'x'.repeat(L.maxNameChars + 1) }));
    expect(long).toEqual([expect.stringMatching(new RegExp(`^name: must be at most ${L.maxNameChars} characters \\(got "x{59}… \\(${L.maxNameChars + 3} characters\\)\\)$`))]);
    expect(issues(withBase({ mapper: `cat ${'a'.repeat(L.maxCommandChars)}` }))[0]).toMatch(/^mapper: .*at most 16384 characters/);
    const env = Object.fromEntries(Array.from({ length: L.maxEnvEntries + 1 }, (_, i) => [`K${i}`, 'v']));
    expect(issues(withBase({ env }))).toEqual([`env: must hold at most ${L.maxEnvEntries} variables (got ${L.maxEnvEntries + 1})`]);
    const big = issues(withBase({ env: { A: 's'.repeat(L.maxEnvChars) } }));
    expect(big).toEqual([`env: must be at most ${L.maxEnvChars} characters in all (got ${L.maxEnvChars + 1})`]);
    expect(issues(withBase({ env: { SECRET: 42 } }))).toEqual(['env.SECRET: expected string, got a hidden value']);
    expect(issues(withBase({ files: Array.from({ length: L.maxFiles + 1 }, (_, i) => `s3://b/f${i}`) }))[0]).toMatch(/^files: must list at most 1000 files/);
    expect(issues(withBase({ numMappers: L.maxMapTasks + 1 }))[0]).toMatch(/^numMappers: must be at most 10000 \(the map-task limit of a job\)/);
  });
});
