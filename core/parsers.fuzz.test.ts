/**
 * The pure parsers of what arrives from outside (manifests, `_READY` markers, task and
 * submission message bodies), fuzzed: each either returns a value or throws its one
 * documented error class with a message, never anything else. Fixed seed; more cases
 * through MR_FUZZ_RUNS (and another seed through MR_FUZZ_SEED).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DoNotRetryError, ManifestError, UsageError } from './errors.js';
import { parseManifest } from './manifest.js';
import { parseReadyMarker } from './ready-marker.js';
import { parseTaskMessage } from '../services/task-lifecycle.js';
import { parseSubmissionMessages } from '../services/trigger-messages.js';

const runs = Number(process.env.MR_FUZZ_RUNS ?? 300);
const seed = Number(process.env.MR_FUZZ_SEED ?? 17);
const options = { numRuns: runs, seed };
/** Generous per test: MR_FUZZ_RUNS may ask for many thousands of cases. */
const timeout = 5_000 + runs * 10;

/** Text that is often JSON, often almost JSON, sometimes neither. */
const text = fc.oneof(
  fc.string(),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.tuple(fc.json(), fc.nat(40)).map(([j, cut]) => j.slice(0, Math.max(0, j.length - cut))),
  fc.nat(3000).map((d) => `${'['.repeat(d)}${']'.repeat(d)}`),
);

const validManifest = {
  input: 's3://my-bucket/in/',
  output: 's3://my-bucket/out/',
  mapper: 'cat',
  reducer: 'cat',
  numReducers: 2,
};
/** A valid manifest with fields replaced by anything, removed, or added. */
const mutatedManifest = fc
  .tuple(
    fc.dictionary(fc.constantFrom(...Object.keys(validManifest), 'env', 'jobconf', 'name', 'splitSize', 'combiner', 'numMappers'), fc.jsonValue()),
    fc.subarray(Object.keys(validManifest)),
    fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 3 }),
  )
  .map(([replaced, removed, extra]) => {
    const m: Record<string, unknown> = { ...validManifest, ...extra, ...replaced };
    for (const k of removed) delete m[k];
    return JSON.stringify(m);
  });

function expectOnly(err: unknown, cls: abstract new (...a: never[]) => Error): void {
  expect(err).toBeInstanceOf(cls);
  expect((err as Error).message.trim()).not.toBe('');
}

describe('fuzzed parsers', () => {
  it('parseManifest returns a manifest or throws a ManifestError with issues', () => {
    fc.assert(
      fc.property(fc.oneof(text, mutatedManifest), (t) => {
        try {
          parseManifest(t);
        } catch (err) {
          expectOnly(err, ManifestError);
          expect((err as ManifestError).issues.length).toBeGreaterThan(0);
        }
      }),
      options,
    );
  }, timeout);

  it('parseReadyMarker returns a spec (or nothing) or throws a UsageError', () => {
    const marker = fc.oneof(
      text,
      fc.record({ files: fc.jsonValue(), count: fc.jsonValue(), timeoutSeconds: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
    );
    fc.assert(
      fc.property(marker, (t) => {
        try {
          parseReadyMarker(t);
        } catch (err) {
          expectOnly(err, UsageError);
        }
      }),
      options,
    );
  }, timeout);

  it('parseTaskMessage never throws and returns only string ids', () => {
    const body = fc.oneof(text, fc.record({ jobId: fc.jsonValue(), taskId: fc.jsonValue(), backup: fc.jsonValue() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)));
    fc.assert(
      fc.property(body, (b) => {
        const m = parseTaskMessage(b);
        if (m) expect([typeof m.jobId, typeof m.taskId, m.backup ?? true]).toEqual(['string', 'string', true]);
      }),
      options,
    );
  }, timeout);

  it('parseSubmissionMessages returns messages or throws DoNotRetryError', () => {
    const record = fc.record(
      { eventSource: fc.oneof(fc.constant('aws:s3'), fc.jsonValue()), s3: fc.oneof(fc.jsonValue(), fc.record({ bucket: fc.record({ name: fc.jsonValue() }), object: fc.record({ key: fc.oneof(fc.string(), fc.jsonValue()) }) })) },
      { requiredKeys: [] },
    );
    const body = fc.oneof(text, fc.array(fc.oneof(record, fc.jsonValue()), { maxLength: 4 }).map((Records) => JSON.stringify({ Records })));
    fc.assert(
      fc.property(body, (b) => {
        try {
          for (const m of parseSubmissionMessages(b)) expect(['upload', 'plan', 'ready']).toContain(m.kind);
        } catch (err) {
          expectOnly(err, DoNotRetryError);
        }
      }),
      options,
    );
  }, timeout);
});
