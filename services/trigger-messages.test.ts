import { describe, expect, it } from 'vitest';
import { DoNotRetryError } from '../core/errors.js';
import { parseSubmissionMessages } from './trigger-messages.js';

describe('parseSubmissionMessages', () => {
  it('refuses a batch re-check whose names an upload would refuse (found by the fuzz test)', () => {
    for (const [pipeline, batch] of [['..', ''], ['p', 'a/b'], ['', 'b']]) {
      expect(() => parseSubmissionMessages(JSON.stringify({ kind: 'ready', pipeline, batch, deadline: 0 }))).toThrow(DoNotRetryError);
    }
    expect(parseSubmissionMessages(JSON.stringify({ kind: 'ready', pipeline: 'p', batch: 'b-1', deadline: 5 }))).toEqual([
      { kind: 'ready', pipeline: 'p', batch: 'b-1', deadline: 5 },
    ]);
  });
});
