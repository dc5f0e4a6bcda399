import { describe, expect, it } from 'vitest';
import { ManifestError } from './errors.js';
import { missingFromBatch, parseReadyMarker, READY_LIMITS } from './ready-marker.js';

describe('parseReadyMarker', () => {
  it('an empty marker, or text that is no JSON object, means "run now"', () => {
    expect(parseReadyMarker('')).toBeUndefined();
    expect(parseReadyMarker('done\n')).toBeUndefined();
  });
  it('reads an expected count or a key list, with the default timeout', () => {
    expect(parseReadyMarker('{"expectedObjects": 3}')).toEqual({ expectedObjects: 3, timeoutSeconds: READY_LIMITS.defaultTimeoutSeconds });
    expect(parseReadyMarker('{"keys": ["a", "d/b"], "timeoutSeconds": 5}')).toEqual({ keys: ['a', 'd/b'], timeoutSeconds: 5 });
  });
  it('refuses a marker that tries to say something and fails, naming why', () => {
    expect(() => parseReadyMarker('{"expectedObjects": 3')).toThrow(/_READY: not valid JSON/);
    expect(() => parseReadyMarker('{}')).toThrow(/give "expectedObjects" or "keys"/);
    expect(() => parseReadyMarker('{"expectedObjects": 0}')).toThrow(ManifestError);
    expect(() => parseReadyMarker('{"count": 3}')).toThrow(ManifestError);
    expect(() => parseReadyMarker('{"keys": [[[[[[]]]]]]}')).toThrow(/nested deeper/);
    expect(() => parseReadyMarker(`{"expectedObjects": 1, "timeoutSeconds": ${READY_LIMITS.maxTimeoutSeconds + 1}}`)).toThrow(/timeoutSeconds/);
  });
});

describe('missingFromBatch', () => {
  it('counts data objects, or names the missing keys', () => {
    expect(missingFromBatch({ expectedObjects: 3, timeoutSeconds: 1 }, ['a', 'b'])).toEqual(['1 more object(s) (2 of 3 landed)']);
    expect(missingFromBatch({ expectedObjects: 2, timeoutSeconds: 1 }, ['a', 'b'])).toEqual([]);
    expect(missingFromBatch({ keys: ['a', 'c'], timeoutSeconds: 1 }, ['a', 'b'])).toEqual(['c']);
  });
});
