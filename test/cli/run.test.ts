/**
 * `mapreduce run` end to end: the real binary starts its own local stack (unique
 * prefix) on the shared emulator, runs the job, and stops its workers. Covers
 * non-UTF-8 input and the plain progress lines on a pipe (case 8), a failing
 * mapper (case 4), the task timeout (case 5) and Ctrl-C during a run (case 10).
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import { cli, cliEnv, finished, Output, Scratch, spawnCli, STACK_LINE } from '../helpers/cli.js';
import { expectNoStackProcesses, uniquePrefix } from '../helpers/local-up.js';
import { parseLogRecords } from '../helpers/worker-logs.js';

const PREFIX = uniquePrefix('run');
let s: Scratch;
let env: NodeJS.ProcessEnv;

const run = (args: string[], extraEnv: Record<string, string> = {}) =>
  cli(['run', '--prefix', PREFIX, ...args], { ...env, ...extraEnv }, { cwd: s.dir });

/** Processes whose command line is exactly `sleep <secs>` (our slow mappers). */
function sleepers(secs: string): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'latin1') === `sleep\0${secs}\0`) found.push(Number(p));
    } catch {}
  }
  return found;
}

const latin1Lines = (b: Buffer) =>
  b
    .toString('latin1')
    .split('\n')
    .filter((l) => l !== '')
    .sort();

beforeAll(() => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
});

afterEach(async () => {
  // Every run stops the workers of the stack it started.
  await expectNoStackProcesses(PREFIX);
});

afterAll(() => s.remove());

describe('mapreduce run', () => {
  it('case 8: passes bytes that are not UTF-8 through untouched, with plain progress lines on a pipe (and --overwrite)', async () => {
    const a = Buffer.from('caf\xe9 latin1 byte\n\xff\xfe raw\tbytes\nplain line\n', 'latin1');
    const b = Buffer.concat([Buffer.from([0xc3, 0x28, 0x20, 0x80, 0x0a]), Buffer.from('zeta\tlast\n')]);
    s.file('bytes/a.txt', a);
    s.file('bytes/b.txt', b);
    // An earlier output: --overwrite replaces its part files and keeps the rest.
    s.file('bytes-out/part-00007', 'stale part\n');
    s.file('bytes-out/notes.txt', 'keep me\n');
    const r = await run(['-i', 'bytes', '-o', 'bytes-out', '-m', 'cat', '-r', 'cat', '-R', '2', '-w', '2', '--overwrite']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Job \S+ succeeded in [\d.]+s\.\nOutput: bytes-out \(2 part files\)\nCounters:\n/);
    expect(r.stdout).toMatch(new RegExp(`mapreduce\\.MAP_INPUT_BYTES +${a.length + b.length}\\n`));
    // Progress: plain lines (stderr is a pipe), naming both phases with their task counts.
    const progress = r.stderr.split('\n').filter((l) => l.startsWith('job '));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress.at(-1)).toMatch(
      /^job \S+ SUCCEEDED phase DONE \| map 2\/2 done, 0 running \| reduce 2\/2 done, 0 running \| [\d.]+ MB\/s \| elapsed \d+s$/,
    );
    expect(progress[0]).toMatch(/ phase MAP \| map \d\/2 done, \d running \| reduce 0\/2 done, 0 running \|/);
    expect(r.stderr.includes('\u001b[')).toBe(false); // no terminal control codes on a pipe
    const parts = readdirSync(s.path('bytes-out')).sort();
    expect(parts).toEqual(['_SUCCESS', 'notes.txt', 'part-00000', 'part-00001']);
    expect(readFileSync(s.path('bytes-out/notes.txt'), 'utf8')).toBe('keep me\n');
    const out = Buffer.concat(parts.filter((p) => p.startsWith('part-')).map((p) => readFileSync(s.path('bytes-out', p))));
    expect(latin1Lines(out)).toEqual(latin1Lines(Buffer.concat([a, b])));
    expect(out.includes(Buffer.from([0xff, 0xfe]))).toBe(true);
    expect(out.includes(Buffer.from([0xc3, 0x28, 0x20, 0x80]))).toBe(true);
  });

  it('case 4: a mapper that exits non-zero fails the job; the message names the task and shows its stderr tail', async () => {
    s.file('in/a.txt', 'one\ntwo\nthree\n');
    s.script('fail_map.sh', 'cat > /dev/null\necho "reading input" >&2\necho "ERROR: cannot parse record 3 (\'three\')" >&2\nexit 3');
    const r = await run(['--verbose', '-i', 'in', '-o', 'fail-out', '-m', './fail_map.sh', '--max-attempts', '2', '-w', '1']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe('');
    // --verbose: the embedded coordinator/checker log readable lines, and the worker logs are kept.
    expect(r.stderr).toMatch(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO {2}local-stack: ${LOG_EVENTS.jobCreated} jobId=\\S+ numMaps=1 numReduces=0`, 'm'),
    );
    const logDir = /^Worker logs kept in (\S+)$/m.exec(r.stderr)?.[1] as string;
    expect(logDir).toBeTruthy();
    const lines = parseLogRecords(readFileSync(path.join(logDir, 'worker-0.log'), 'utf8'));
    rmSync(logDir, { recursive: true, force: true });
    // Structured worker logs: every task line names the job, the task and the attempt.
    const failures = lines.filter((l) => l.message === LOG_EVENTS.attemptFailed);
    expect(failures.map((l) => [l.taskId, l.attempt])).toEqual([['m-00000', 1], ['m-00000', 2]]);
    const attemptEvents: string[] = [LOG_EVENTS.taskClaimed, LOG_EVENTS.attemptFailed];
    const attemptLines = lines.filter((x) => attemptEvents.includes(x.message));
    expect(attemptLines.map((l) => l.message)).toEqual([...attemptEvents, ...attemptEvents]);
    for (const l of attemptLines) {
      expect(l.taskId).toBe('m-00000');
      expect([typeof l.level, typeof l.jobId, typeof l.attempt]).toEqual(['string', 'string', 'number']);
    }
    expect(r.stderr).toMatch(
      /Job (\S+) FAILED after [\d.]+s: Task m-00000 failed after 2 attempts: mapper "fail_map\.sh" exited with code 3\n--- stderr \(last lines\) ---\nreading input\nERROR: cannot parse record 3 \('three'\)\n/,
    );
    expect(r.stderr).toMatch(/mapreduce\.FAILED_ATTEMPTS +2\n/);
    expect(r.stderr).toMatch(new RegExp(`Task logs: mapreduce logs \\S+ --prefix ${PREFIX} {3}Details: mapreduce status \\S+ --prefix ${PREFIX}`));
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(readdirSync(s.dir)).not.toContain('fail-out'); // nothing written for a failed job
  });

  it('case 5: a mapper killed by the task timeout fails the job with the reason', async () => {
    const r = await run(['-i', 'in', '-o', 'timeout-out', '-m', 'sleep 97', '--max-attempts', '1', '-w', '1'], {
      MR_TASK_TIMEOUT_MS: '1500',
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /FAILED after [\d.]+s: Task m-00000 failed after 1 attempt: mapper "sleep 97" killed after 1\.5 s without progress \(no input read, no output written\)/,
    );
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(sleepers('97')).toEqual([]);
  });

  it('case 10: Ctrl-C during a run cancels the job, stops the running tasks and exits 130', async () => {
    s.file('slow/a.txt', 'x\n');
    s.file('slow/b.txt', 'y\n');
    const child = spawnCli(['run', '--prefix', PREFIX, '-i', 'slow', '-o', 'slow-out', '-m', 'sleep 98', '-w', '2'], env, s.dir);
    const out = new Output(child);
    await out.waitFor(/map 0\/2 done, [12] running/, 90_000);
    child.kill('SIGINT');
    const r = await finished(child, out, 60_000);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toMatch(/Cancelling job \S+ \(Ctrl-C again to exit at once\)/);
    expect(r.stderr).toMatch(/Job \S+ CANCELLED after [\d.]+s: cancelled by user \(Ctrl-C\)/);
    expect(r.stderr).toMatch(/CANCELLED phase MAP \| map 0\/2 done, 0 running/);
    expect(r.stdout).toBe('');
    expect(readdirSync(s.dir)).not.toContain('slow-out');
    await expectNoStackProcesses(PREFIX);
    expect(sleepers('98')).toEqual([]);
  });
});
