import { describe, expect, it } from 'vitest';
import { parseTaskMessage } from '../core/model.js';
import { backoffMs } from './task-runner.js';

describe('backoffMs', () => {
  it('doubles per failure from the base and caps at 60 s', () => {
    expect([1, 2, 3, 4].map((f) => backoffMs(1000, f))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffMs(1000, 30)).toBe(60_000);
  });
});

describe('parseTaskMessage', () => {
  it('accepts {jobId, taskId} and nothing else', () => {
    expect(parseTaskMessage('{"jobId":"j1","taskId":"m-00001"}')).toEqual({ jobId: 'j1', taskId: 'm-00001' });
    expect(parseTaskMessage('{"jobId":"j1"}')).toBeUndefined();
    expect(parseTaskMessage('{"jobId":1,"taskId":"m-1"}')).toBeUndefined();
    expect(parseTaskMessage('garbage')).toBeUndefined();
  });
});
