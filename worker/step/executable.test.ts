import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PoisonTaskError, TaskFailedError } from '../../core/errors.js';
import { resolveProgram } from './executable-support.js';
import { expectNoLeftoverProcesses, makeWorkDir, removeWorkDir, runStep, trackPid } from '../../test/fixtures/worker/harness.js';
import { startStep } from './index.js';
import { CREDENTIAL_ENV_NAMES } from './child-env.js';

let dir: string;
beforeEach(async () => {
  dir = await makeWorkDir();
});
afterEach(async () => {
  await expectNoLeftoverProcesses();
  await removeWorkDir(dir);
});

describe('executable steps', () => {
  it('runs a shipped word-count mapper and reducer', async () => {
    const map = await runStep('wc_map.sh', {
      workDir: dir,
      input: [['the quick fox', 'the lazy  dog'], ['\tthe end']],
    });
    expect(map.error).toBeUndefined();
    expect(map.out).toEqual(['the\t1', 'quick\t1', 'fox\t1', 'the\t1', 'lazy\t1', 'dog\t1', 'the\t1', 'end\t1']);

    const sorted = [...map.out].sort();
    const reduce = await runStep('wc_reduce.sh', {
      role: 'reduce',
      workDir: dir,
      input: [sorted.slice(0, 3), sorted.slice(3)],
    });
    expect(reduce.error).toBeUndefined();
    expect(reduce.out).toEqual(['dog\t1', 'end\t1', 'fox\t1', 'lazy\t1', 'quick\t1', 'the\t3']);
    expect(reduce.result?.stderr.length).toBe(0);
  });

  it('runs programs from PATH with quoted arguments, and no shell', async () => {
    const r = await runStep(`awk -F '\\t' '{ print $2 "|" $1 }'`, { workDir: dir, input: [['a\tb', 'c\td']] });
    expect(r.out).toEqual(['b|a', 'd|c']);
    const literal = await runStep('echo a | wc -l > x', { workDir: dir, input: [] });
    expect(literal.out).toEqual(['a | wc -l > x']);
  });

  it('keeps every credential variable out of the step, from the worker and from the job env alike', async () => {
    const saved = Object.fromEntries(CREDENTIAL_ENV_NAMES.map((n) => [n, process.env[n]]));
    for (const n of CREDENTIAL_ENV_NAMES) process.env[n] = `worker-${n}`;
    try {
      const fromJob = { AWS_SESSION_TOKEN: 'job-token', AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://127.0.0.1:1/creds', MY_SETTING: 'on' };
      const r = await runStep('env', { workDir: dir, env: fromJob });
      expect(r.error).toBeUndefined();
      const names = r.out.map((l) => l.split('=')[0]);
      expect(names).toContain('MY_SETTING');
      for (const n of CREDENTIAL_ENV_NAMES) expect(names).not.toContain(n);
      expect(r.out.join('\n')).not.toMatch(/worker-AWS_|job-token/);
    } finally {
      for (const [n, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[n];
        else process.env[n] = v;
      }
    }
  });

  it('passes argv, the work dir as cwd, job env and only PATH/HOME/TMPDIR of the worker', async () => {
    process.env.MR_TEST_SECRET = 'do-not-leak';
    try {
      const r = await runStep(`env.sh "two words" 'it''s'`, { workDir: dir, env: { MY_SETTING: 'on' } });
      expect(r.error).toBeUndefined();
      expect(r.out).toEqual([
        `cwd\t${dir}`,
        'argv0\t./env.sh',
        'arg\ttwo words',
        'arg\tits',
        'job\tjob-1',
        'user\ton',
        'secret\tunset',
        'path\tset',
      ]);
    } finally {
      delete process.env.MR_TEST_SECRET;
    }
  });

  it('passes bytes that are not UTF-8 through untouched, and a last line without newline is a record', async () => {
    const raw = Buffer.from([0x61, 0xff, 0xfe, 0x09, 0x80, 0xc3, 0x28, 0x00, 0x7f]).toString('latin1');
    const r = await runStep('echo_bytes.sh', { workDir: dir, input: [[raw, 'caf\xc3\xa9', '']] });
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual([raw, 'caf\xc3\xa9', '']);
    expect(Buffer.from(r.out[0]!, 'latin1')).toEqual(
      Buffer.from([0x61, 0xff, 0xfe, 0x09, 0x80, 0xc3, 0x28, 0x00, 0x7f]),
    );
    const last = await runStep('lines.sh 3', { workDir: dir });
    expect(last.out).toEqual(['line1', 'line2', 'line3']);
  });

  it('fails with the exit code and the stderr tail on a non-zero exit', async () => {
    const input = Array.from({ length: 50 }, (_, i) => Array.from({ length: 2000 }, (_, j) => `row ${i} ${j}`));
    const r = await runStep('fail3.sh', { workDir: dir, input });
    expect(r.error).toBeInstanceOf(TaskFailedError);
    expect(r.error).not.toBeInstanceOf(PoisonTaskError);
    const err = r.error as TaskFailedError;
    expect(err.message).toBe('mapper "fail3.sh" exited with code 3');
    expect(err.stderrTail).toBe('something went wrong\ndetails: bad record');
    expect(r.outputError).toBe(err);
  });

  it('reports death by signal', async () => {
    const r = await runStep('killed.sh', { role: 'reduce', workDir: dir, input: [['x']] });
    expect(r.error).toBeInstanceOf(TaskFailedError);
    expect((r.error as Error).message).toMatch(/reducer "killed.sh" was killed by signal SIGKILL/);
    expect((r.error as TaskFailedError).stderrTail).toBe('about to die');
  });

  it('treats an early exit with code 0 as success even when input is left unread (EPIPE)', async () => {
    const input = Array.from({ length: 40 }, (_, i) => Array.from({ length: 5000 }, (_, j) => `line ${i}-${j}`));
    const r = await runStep('head -n 2', { workDir: dir, input });
    expect(r.error).toBeUndefined();
    expect(r.writeError).toBeUndefined();
    expect(r.out).toEqual(['line 0-0', 'line 0-1']);
  });

  it('turns reporter: lines into counters and status, keeping other stderr', async () => {
    const r = await runStep('reporter.sh', { workDir: dir, input: [['a', 'b'], ['c']] });
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual(['a', 'b', 'c']);
    expect(r.counters).toEqual([
      ['Fixture', 'Lines', 1],
      ['Fixture', 'Lines', 1],
      ['Fixture', 'Lines', 1],
      ['Fixture', 'Big', 10_000_000_000],
      // Hadoop's grammar: exactly group,counter,amount; "My,Group,With,Commas,-2" is no counter line.
    ]);
    expect(r.statuses).toEqual(['read 3 lines']);
    expect(r.result!.stderr.toString('utf8')).toBe(
      'starting up\nreporter:counter:My,Group,With,Commas,-2\nreporter:counter:Bad,NoAmount\nreporter:counter:Bad,Amount,x\nreporter:whatever\ndone\n',
    );
    expect(r.result!.stderrTail).toBe(
      'starting up\nreporter:counter:My,Group,With,Commas,-2\nreporter:counter:Bad,NoAmount\nreporter:counter:Bad,Amount,x\nreporter:whatever\ndone',
    );
  });

  it('keeps the head and the tail of a long stderr', async () => {
    const r = await runStep('noisy.sh', { workDir: dir, stderrLimitBytes: 1000 });
    expect(r.error).toBeUndefined();
    const text = r.result!.stderr.toString('latin1');
    expect(text.startsWith('noise line 1\nnoise line 2\n')).toBe(true);
    expect(text.endsWith('noise line 1999\nnoise line 2000\n')).toBe(true);
    expect(text).toMatch(/\[\.\.\. \d+ bytes of stderr omitted \.\.\.\]/);
    expect(r.result!.stderr.length).toBeLessThan(1100);
    expect(r.result!.stderrTail.split('\n')).toHaveLength(20);
    expect(r.result!.stderrTail.endsWith('noise line 2000')).toBe(true);
  });

  it('keeps order and applies backpressure with a slow consumer', async () => {
    const r = await runStep('lines.sh 200000', {
      workDir: dir,
      onBatch: () => new Promise((res) => setImmediate(res)),
    });
    expect(r.error).toBeUndefined();
    expect(r.out).toHaveLength(200_000);
    expect(r.out[0]).toBe('line1');
    expect(r.out[123_456]).toBe('line123457');
    expect(r.out.at(-1)).toBe('line200000');
  });

  it('kills a process (and its children) that makes no progress', async () => {
    const started = Date.now();
    const r = await runStep('stall.sh', { workDir: dir, input: [['ignored']], timeoutMs: 300 });
    const elapsed = Date.now() - started;
    const sleeper = Number(await readFile(join(dir, 'sleeper.pid'), 'utf8'));
    trackPid(sleeper);
    expect(r.error).toBeInstanceOf(TaskFailedError);
    expect((r.error as Error).message).toBe(
      'mapper "stall.sh" killed after 0.3 s without progress (no input read, no output written)',
    );
    expect(elapsed).toBeLessThan(10_000);
  });

  it('also kills a process that stops reading while a write is blocked', async () => {
    const big = Array.from({ length: 20 }, () => Array.from({ length: 1000 }, () => 'x'.repeat(100)));
    const r = await runStep('stall.sh', { workDir: dir, input: big, timeoutMs: 300 });
    trackPid(Number(await readFile(join(dir, 'sleeper.pid'), 'utf8')));
    expect((r.error as Error).message).toMatch(/killed after 0.3 s without progress/);
  });

  it('does not count time spent waiting for the caller to write as no progress', async () => {
    const running = await startStep('cat', {
      role: 'map',
      workDir: dir,
      env: {},
      noProgressTimeoutMs: 500,
      onCounter: () => {},
      onStatus: () => {},
    });
    trackPid(running.pid);
    const out: string[] = [];
    const drain = (async () => {
      for await (const b of running.output) out.push(...b);
    })();
    await running.write(['first']);
    await new Promise((res) => setTimeout(res, 1200)); // the worker is slow to fetch input
    await running.write(['second']);
    await running.end();
    await drain;
    await running.done;
    expect(out).toEqual(['first', 'second']);
  });

  it('finishes when a descendant outside the process group keeps stdout open', async () => {
    const r = await runStep('escape.sh', { workDir: dir, timeoutMs: 300 });
    const escaped = Number(await readFile(join(dir, 'escaped.pid'), 'utf8'));
    process.kill(escaped, 'SIGKILL');
    trackPid(escaped);
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual(['done']);
  });

  it('kills the process when the signal aborts, rejecting with the abort reason', async () => {
    const ac = new AbortController();
    const running = await startStep('stall.sh', {
      role: 'map',
      workDir: dir,
      env: {},
      noProgressTimeoutMs: 60_000,
      onCounter: () => {},
      onStatus: () => {},
      signal: ac.signal,
    });
    trackPid(running.pid);
    const reason = new Error('lease lost');
    setTimeout(() => ac.abort(reason), 100);
    await expect(running.done).rejects.toBe(reason);
    await expect(running.write(['x'])).rejects.toBe(reason);
  });

  it('refuses to start after the signal was aborted', async () => {
    const reason = new Error('cancelled');
    await expect(
      startStep('cat', {
        role: 'map',
        workDir: dir,
        env: {},
        noProgressTimeoutMs: 1000,
        onCounter: () => {},
        onStatus: () => {},
        signal: AbortSignal.abort(reason),
      }),
    ).rejects.toBe(reason);
  });

  it('rejects missing, non-executable and unstartable programs as poison', async () => {
    const start = (cmd: string, role: 'map' | 'reduce' = 'map') =>
      runStep(cmd, { role, workDir: dir }).then(
        (r) => r.error,
        (e: unknown) => e,
      );
    const notExec = await start('not_exec.sh');
    expect(notExec).toBeInstanceOf(PoisonTaskError);
    expect((notExec as Error).message).toMatch(/^mapper "not_exec.sh" is not executable: run chmod \+x not_exec.sh/);
    const missing = await start('no_such_program_xyz --flag', 'reduce');
    expect(missing).toBeInstanceOf(PoisonTaskError);
    expect((missing as Error).message).toBe(
      `reducer "no_such_program_xyz" not found in the job's files or on PATH: ship it with "files" or install it on the worker`,
    );
    expect(await start('./missing.sh')).toBeInstanceOf(PoisonTaskError);
    expect(await start(`cat 'unterminated`)).toBeInstanceOf(PoisonTaskError);
    const badInterpreter = await start('bad_interpreter.sh');
    expect(badInterpreter).toBeInstanceOf(PoisonTaskError);
    expect((badInterpreter as Error).message).toMatch(/could not be started \(ENOENT\)/);
  });
});

describe('resolveProgram', () => {
  it('prefers a shipped file, then PATH, and refuses directories and relative PATH entries', async () => {
    expect(await resolveProgram('wc_map.sh', dir, '/usr/bin:/bin')).toBe('./wc_map.sh');
    expect(await resolveProgram('sh', dir, `relative:${'/usr/bin'}:/bin`)).toMatch(/^\/(usr\/)?bin\/sh$/);
    expect(await resolveProgram('./wc_map.sh', dir, '')).toBe('./wc_map.sh');
    expect(await resolveProgram(join(dir, 'wc_map.sh'), '/', '')).toBe(join(dir, 'wc_map.sh'));
    await expect(resolveProgram('sh', dir, 'relative')).rejects.toBeInstanceOf(PoisonTaskError);
    await expect(resolveProgram('/tmp', dir, '')).rejects.toBeInstanceOf(PoisonTaskError);
  });
});
