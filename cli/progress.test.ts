import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { JobRecord, TaskRecord } from '../core/model.js';
import { formatProgressLine, phaseEtaSeconds, progressFromTasks, ttyReporter } from './progress.js';

const NOW = 1_000_000;
const job = { jobId: 'j', status: 'RUNNING', phase: 'MAP', numMaps: 4, numReduces: 2, inputBytes: 400 } as JobRecord;
const task = (taskId: string, status: TaskRecord['status'], o: Partial<TaskRecord> = {}): TaskRecord => ({
  jobId: 'j',
  taskId,
  kind: taskId.startsWith('m') ? 'map' : 'reduce',
  index: 0,
  status,
  attempt: 1,
  failures: 0,
  stalls: 0,
  split: { bucket: 'b', key: 'k', start: 0, end: 100, objectSize: 400, gzip: false },
  ...o,
});
const tasks = [
  task('m-00000', 'COMMITTED', { history: [{ attempt: 1, worker: 'w1', startedAt: NOW - 10_000, endedAt: NOW - 6000, outcome: 'committed' }] }),
  task('m-00001', 'RUNNING', { owner: 'w2', claimedAt: NOW - 8000, attempt: 2 }),
  task('m-00002', 'RUNNING', { owner: 'w1', claimedAt: NOW - 3000 }),
  task('m-00003', 'PENDING'),
  task('r-00000', 'PENDING'),
  task('r-00001', 'PENDING'),
];

describe('progress from task records', () => {
  it('counts per phase, times each phase from its first attempt, lists running attempts oldest first', () => {
    const s = progressFromTasks(job, tasks, NOW - 12_000, NOW);
    expect(s.map).toEqual({ done: 1, running: 2, total: 4, elapsedSeconds: 10 });
    expect(s.reduce).toEqual({ done: 0, running: 0, total: 2 });
    expect(s.mapBytesDone).toBe(100);
    expect(s.attempts).toEqual([
      { taskId: 'm-00001', attempt: 2, worker: 'w2', ageSeconds: 8 },
      { taskId: 'm-00002', attempt: 1, worker: 'w1', ageSeconds: 3 },
    ]);
    // One of four maps in 10 s: three more take 30 s at that pace; reduce has not started.
    expect(phaseEtaSeconds(s.map)).toBe(30);
    expect(phaseEtaSeconds(s.reduce)).toBeUndefined();
    expect(formatProgressLine(s)).toContain('running m-00001#2 on w2 for 8.0s, m-00002#1 on w1 for 3.0s');
  });

  it('draws a bar per phase with its own ETA and the running attempts under them', async () => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    const r = ttyReporter(stream);
    r.update(progressFromTasks(job, tasks, NOW - 12_000, NOW));
    r.stop();
    await new Promise((res) => setImmediate(res));
    expect(text).toMatch(/map .*1\/4 tasks .*ETA 30s/);
    expect(text).toMatch(/reduce .*0\/2 tasks .*waiting/);
    expect(text).toContain('m-00001#2 on w2 for 8.0s');
    expect(text).toContain('m-00002#1 on w1 for 3.0s');
  });
});
