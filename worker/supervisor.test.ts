import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { WORKER_RECYCLE_EXIT_CODE } from '../core/worker-recycle.js';
import { RECYCLED_WORKER_COMPILE_ARG, RECYCLED_WORKER_SEMI_SPACE_MIB } from '../core/worker-heap.js';
import { superviseWorker } from './supervisor.js';

/**
 * A stand-in worker: appends its pid to a file, then exits with the next code of `codes`
 * (one per start), or waits for SIGTERM and exits 0 when the codes run out.
 */
function fakeWorker(codes: number[]): { script: string; pids: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'supervisor-'));
  const pids = path.join(dir, 'pids');
  writeFileSync(pids, '');
  const script = path.join(dir, 'worker.mjs');
  writeFileSync(
    script,
    `import { appendFileSync, readFileSync } from 'node:fs';
const started = readFileSync(${JSON.stringify(pids)}, 'utf8').split('\\n').filter(Boolean).length;
appendFileSync(${JSON.stringify(pids)}, process.pid + ' ' + (process.env.MR_WATCH_PARENT ?? '-') + ' ' + (process.connected ? 'ipc' : 'no-ipc') + ' ' + (process.execArgv.join(',') || '-') + '\\n');
const codes = ${JSON.stringify(codes)};
if (started < codes.length) process.exit(codes[started]);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1000);
`,
  );
  return { script, pids };
}

const starts = (pids: string) => readFileSync(pids, 'utf8').split('\n').filter(Boolean).map((l) => l.split(' '));

describe('worker supervisor', () => {
  it('starts a new worker each time one exits to be recycled, and ends with the first other exit code', async () => {
    const w = fakeWorker([WORKER_RECYCLE_EXIT_CODE, WORKER_RECYCLE_EXIT_CODE, 3]);
    const code = await superviseWorker({ execPath: process.execPath, args: [w.script], env: { PATH: process.env.PATH } });
    expect(code).toBe(3);
    const s = starts(w.pids);
    expect(s).toHaveLength(3);
    expect(new Set(s.map((x) => x[0])).size).toBe(3);
    // Each worker holds the channel that stops it if the supervisor dies (worker/parent-watch.ts).
    for (const x of s) expect(x.slice(1, 3)).toEqual(['1', 'ipc']);
    // The first worker runs with the given node options; each replacement also with a young worker's semi-space ceiling,
    // compiling on its main thread.
    const replacement = `--max-semi-space-size=${RECYCLED_WORKER_SEMI_SPACE_MIB},${RECYCLED_WORKER_COMPILE_ARG}`;
    expect(s.map((x) => x[3])).toEqual(['-', replacement, replacement]);
  });

  it('does not recycle a worker that exits 0 or crashes', async () => {
    for (const exit of [0, 1]) {
      const w = fakeWorker([exit, WORKER_RECYCLE_EXIT_CODE]);
      expect(await superviseWorker({ execPath: process.execPath, args: [w.script], env: { PATH: process.env.PATH } })).toBe(exit);
      expect(starts(w.pids)).toHaveLength(1);
    }
  });

  it('passes SIGTERM on to the running worker and exits with its code', async () => {
    const w = fakeWorker([WORKER_RECYCLE_EXIT_CODE]);
    const run = superviseWorker({ execPath: process.execPath, args: [w.script], env: { PATH: process.env.PATH } });
    const deadline = Date.now() + 10_000;
    while (starts(w.pids).length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    // Give the second worker time to install its handler, then signal this (the supervisor's) process.
    await new Promise((r) => setTimeout(r, 300));
    process.emit('SIGTERM', 'SIGTERM');
    expect(await run).toBe(0);
    expect(starts(w.pids)).toHaveLength(2);
  });
});
