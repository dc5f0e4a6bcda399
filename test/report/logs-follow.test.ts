/**
 * `mapreduce logs --follow` on a running job: it prints each attempt's stderr as the
 * attempt ends, names the running attempts meanwhile, and exits when the job ends.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cliEnv, finished } from '../helpers/cli.js';
import { finishJob, startJob } from '../helpers/pipeline.js';
import { REPO, TestStack } from '../helpers/stack.js';

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
