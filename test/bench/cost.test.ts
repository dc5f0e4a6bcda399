/**
 * The bench's pricing of logged control-plane calls (scripts/bench/cost.ts `addCall`): reads
 * are priced as read units, writes as write units, whatever the operation's name.
 */
import { describe, expect, it } from 'vitest';
import type { CallLine } from '../../scripts/bench/calls.js';
import { addCall, emptyMix } from '../../scripts/bench/cost.js';

const call = (operation: string, key: string | undefined): CallLine =>
  ({ ts: 0, pid: 1, service: 'dynamodb', operation, jobId: 'j', taskId: undefined, key, range: undefined }) as CallLine;
const sizes = { jobItemBytes: 2048, queryReadUnits: 3 };

describe('addCall', () => {
  it('prices the ended-job BatchGetItem as eventually consistent reads of job items, not as a write', () => {
    const one = emptyMix();
    addCall(one, call('BatchGetItem', undefined), sizes);
    expect(one).toEqual({ ...emptyMix(), ddbReadUnits: 0.5 });
    const three = emptyMix();
    addCall(three, call('BatchGetItem', 'JOB+JOB+JOB'), sizes);
    expect(three.ddbReadUnits).toBe(1.5);
    expect(three.ddbWriteUnits).toBe(0);
  });

  it('prices a job GetItem as a strongly consistent read and an UpdateItem as a write', () => {
    const m = emptyMix();
    addCall(m, call('GetItem', 'JOB'), sizes);
    addCall(m, call('UpdateItem', 'TASK'), sizes);
    expect(m.ddbReadUnits).toBe(1);
    expect(m.ddbWriteUnits).toBe(1);
  });
});
