import { describe, expect, it } from 'vitest';
import type { TaskRecord } from '../core/model.js';
import { backupLines, backupsOf } from './backups.js';

const task = (o: Partial<TaskRecord>): TaskRecord => ({
  jobId: 'j',
  taskId: 'm-00001',
  kind: 'map',
  index: 1,
  status: 'RUNNING',
  attempt: 1,
  failures: 0,
  stalls: 0,
  ...o,
});

describe('status: backups', () => {
  it('shows running, won and superseded backups, and nothing for tasks without one', () => {
    const tasks = [
      task({ taskId: 'm-00000' }),
      task({ taskId: 'm-00001', backupAttempt: 2, backupOwner: 'w2' }),
      task({ taskId: 'm-00002', status: 'COMMITTED', attempt: 2, committedAttempt: 2, backupAttempt: 2,
        history: [{ attempt: 2, worker: 'w3', startedAt: 1, endedAt: 2, outcome: 'committed', backup: true }] }),
      task({ taskId: 'm-00003', status: 'COMMITTED', committedAttempt: 1, backupAttempt: 2,
        history: [{ attempt: 2, worker: 'w4', startedAt: 1, endedAt: 2, outcome: 'superseded', backup: true }] }),
    ];
    expect(backupsOf(tasks).map((b) => [b.taskId, b.state, b.worker])).toEqual([
      ['m-00001', 'running', 'w2'],
      ['m-00002', 'won', 'w3'],
      ['m-00003', 'superseded', 'w4'],
    ]);
    expect(backupLines(backupsOf(tasks))[0]).toBe('Backups:');
    expect(backupLines(backupsOf([tasks[0]!]))).toEqual([]);
  });
});
