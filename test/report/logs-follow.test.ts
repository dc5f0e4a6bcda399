/**
 * `mapreduce logs --follow` on a running job: it prints new stderr lines of running
 * attempts, the rest of each attempt's log as it ends (each line once), names the
 * running attempts meanwhile, and exits when the job ends.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LIVE_LOG_EVERY_BEATS } from '../../core/live-log.js';
import { BIN, cliEnv, finished, Output } from '../helpers/cli.js';
import { finishJob, startJob } from '../helpers/pipeline.js';
import { FAST_TIMINGS, REPO, TestStack } from '../helpers/stack.js';

describe('mapreduce logs --follow', () => {
  let t: TestStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mr-follow-'));
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('streams the stderr of a running attempt while it runs, and prints each line once', async () => {
    // Long enough for several live uploads (one per LIVE_LOG_EVERY_BEATS beats) and polls.
    const sleepS = Math.ceil((8 * FAST_TIMINGS.heartbeatMs * LIVE_LOG_EVERY_BEATS) / 1000);
    const mapper = path.join(dir, 'sleepy_map.sh');
    writeFileSync(mapper, `#!/bin/sh\necho "live line" >&2\nsleep ${sleepS}\necho "after the sleep" >&2\ncat\n`);
    chmodSync(mapper, 0o755);
    const started = await startJob(t, { name: 'live', files: { 'a.txt': Buffer.from('a\n') }, mapper: 'sleepy_map.sh', ship: [mapper] });
    const child = spawn(process.execPath, [BIN, 'logs', started.jobId, '--follow', '--prefix', t.stack.options.prefix], {
      env: cliEnv(path.join(dir, 'state-live')),
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out = new Output(child);
    const followed = finished(child, out, 120_000);
    await out.waitFor(/^live line$/m, 60_000);
    // The moment the line shows: its task is still running (the mapper is asleep).
    const mapTask = (await t.s.tasks.list(started.jobId)).find((x) => x.kind === 'map');
    expect(mapTask?.status).toBe('RUNNING');
    expect(out.stdout).toMatch(/^==> task m-\d{5} attempt \d+ \(running\) <==\nlive line$/m);
    expect(out.stdout).not.toContain('after the sleep');
    await finishJob(t, started);
    const r = await followed;
    expect(r.code, r.stderr).toBe(0);
    // Each line once per attempt (on a loaded machine the task may have had a second attempt).
    const attempts = new Set([...r.stdout.matchAll(/^==> task m-\d{5} attempt (\d+)/gm)].map((m) => m[1]));
    expect(r.stdout).toMatch(/^==> task m-\d{5} attempt \d+ <==$/m); // the final header: the attempt ended
    expect(r.stdout.match(/^live line$/gm)).toHaveLength(attempts.size);
    expect(r.stdout.match(/^after the sleep$/gm)).toHaveLength(attempts.size);
  });

  it('prints every attempt log as it ends, the running attempts meanwhile, and exits when the job ends', async () => {
    const mapper = path.join(dir, 'slow_map.sh');
    writeFileSync(mapper, '#!/bin/sh\necho "stderr says hello" >&2\nsleep 2\ncat\n');
    chmodSync(mapper, 0o755);
    const started = await startJob(t, {
      name: 'follow',
      files: { 'a.txt': Buffer.from('a\nb\n'), 'b.txt': Buffer.from('c\nd\n'), 'c.txt': Buffer.from('e\n') },
      mapper: 'slow_map.sh',
      ship: [mapper],
    });
    const child = spawn(process.execPath, [BIN, 'logs', started.jobId, '--follow', '--prefix', t.stack.options.prefix], {
      env: cliEnv(path.join(dir, 'state')),
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const followed = finished(child, undefined, 120_000);
    const run = await finishJob(t, started);
    const r = await followed;
    expect(r.code, r.stderr).toBe(0);
    // One log per attempt that ended; on a loaded machine a task may have had a second attempt.
    const headers = [...r.stdout.matchAll(/^==> task (m-\d{5}) attempt \d+ <==$/gm)];
    const mapTasks = (await t.s.tasks.list(run.jobId)).filter((x) => x.kind === 'map').map((x) => x.taskId);
    expect(new Set(headers.map((m) => m[1]))).toEqual(new Set(mapTasks));
    expect(r.stdout.match(/^stderr says hello$/gm)).toHaveLength(headers.length);
    expect(r.stderr).toMatch(/\[running: m-\d{5}#1 on \S+ for \d+\.\ds/);
    expect(r.stderr).toContain(`[job ${started.jobId} SUCCEEDED]`);
  });
});
