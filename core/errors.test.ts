import { describe, expect, it } from 'vitest';
import { DoNotRetryError, isTransient, LimitExceededError, ManifestError, StaleStateError, UsageError } from './errors.js';

const sdkError = (name: string, httpStatusCode?: number) =>
  Object.assign(new Error(name), { name, $metadata: httpStatusCode === undefined ? {} : { httpStatusCode } });

describe('isTransient', () => {
  it('throttling, 5xx, timeouts and network errors may pass on a later try', () => {
    expect(isTransient(sdkError('SlowDown', 503))).toBe(true);
    expect(isTransient(sdkError('ProvisionedThroughputExceededException', 400))).toBe(true);
    expect(isTransient(sdkError('Whatever', 500))).toBe(true);
    expect(isTransient(sdkError('Whatever'))).toBe(true);
    expect(isTransient(Object.assign(new Error('reset'), { code: 'ECONNRESET' }))).toBe(true);
    expect(isTransient(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'ETIMEDOUT' }) }))).toBe(true);
  });
  it('usage errors, do-not-retry errors, 4xx and bugs met on the input are poison', () => {
    expect(isTransient(new UsageError('bad flag'))).toBe(false);
    expect(isTransient(new ManifestError(['x']))).toBe(false);
    expect(isTransient(new LimitExceededError('too many'))).toBe(false);
    expect(isTransient(new DoNotRetryError('poison'))).toBe(false);
    expect(isTransient(sdkError('ValidationException', 400))).toBe(false);
    expect(isTransient(new RangeError('Maximum call stack size exceeded'))).toBe(false);
    expect(isTransient(new TypeError('x is undefined'))).toBe(false);
    expect(isTransient(new StaleStateError('lost', undefined))).toBe(false);
    expect(isTransient('a string')).toBe(false);
  });
});
