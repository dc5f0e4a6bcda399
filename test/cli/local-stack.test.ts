/**
 * The real binary against a long-lived `mapreduce local up` stack (unique prefix):
 * submit/status/jobs/cancel, the TS module counter API, malformed manifests
 * uploaded straight to S3 (case 6), S3 outputs that exist or lie in the
 * framework's area (cases 2 and 7), and cancelling a running job (case 10).
 * `local down` in afterAll must leave no process of the stack behind.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { manifestKey } from '../../core/layout.js';
import { cli, cliEnv, finished, Output, Scratch, spawnCli, STACK_LINE } from '../helpers/cli.js';
import { LocalUp, StackAccess, uniquePrefix } from '../helpers/local-up.js';

const PREFIX = uniquePrefix('stack');
let s: Scratch;
let env: NodeJS.ProcessEnv;
let up: LocalUp;
let access: StackAccess;

/** `mapreduce <args> --prefix PREFIX`, run in the scratch directory. */
const mr = (...args: string[]) => cli([...args, '--prefix', PREFIX], env, { cwd: s.dir });

const MODULE = `
export const map = (line, ctx) => {
  ctx.counter('Module', 'Lines');
  for (const w of line.split(' ')) if (w) ctx.emit(w, '1');
  ctx.status('mapped ' + ctx.taskId);
};
export const reduce = (key, values, ctx) => {
  ctx.counter('Module', 'Keys', 1);
  ctx.emit(key, String(values.length));
};`;

beforeAll(async () => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  s.file('in/a.txt', 'the quick fox\nthe lazy dog\n');
  s.file('in/b.txt', 'a quick end\n');
  s.file('count.ts', MODULE);
  s.file('slow/a.txt', 'x\n');
  s.file('slow/b.txt', 'y\n');
  up = await LocalUp.start(PREFIX, env, 2);
  access = new StackAccess(PREFIX);
  await access.blobs.putBytes(access.bucket, 'data/in.txt', 'some input\n');
});

afterAll(async () => {
  access?.close();
  try {
    if (up) {
      const down = await up.stop(); // also fails the suite if a process of the stack is left
      expect(down.code, down.stderr).toBe(0);
      expect(down.stdout).toBe(`Local stack "${PREFIX}" stopped.\n`);
    }
  } finally {
    s?.remove();
  }
});

describe('a long-lived local stack', () => {
  it('local up: prints where things are; a second `local up` with the same prefix is refused', async () => {
    expect(up.out.stdout).toMatch(new RegExp(`^Local stack "${PREFIX}" is up at \\S+ with 2 workers\\.\\nJob bucket: s3://${PREFIX}-jobs/ +Worker logs: \\S+`));
    const again = await cli(['local', 'up', '--prefix', PREFIX], env);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(new RegExp(`A local stack "${PREFIX}" is already running \\(pid \\d+\\)\\. Stop it with \`mapreduce local down --prefix ${PREFIX}\``));
    const status = await cli(['local', 'status', '--prefix', PREFIX], env);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ prefix: PREFIX, workers: 2 });
  });

  it('submit --wait runs a TS module job; module counters land on the job; status and jobs show it', async () => {
    const r = await mr('submit', '--wait', '-i', 'in', '-o', 'mod-out', '-m', 'count.ts', '-r', 'count.ts', '-R', '2');
    expect(r.code, r.stderr).toBe(0);
    const jobId = /^Job (\S+) succeeded in/.exec(r.stdout)?.[1] as string;
    expect(jobId).toBeTruthy();
    expect(r.stdout).toMatch(/^Output: mod-out \(2 part files\)$/m);
    expect(r.stdout).toMatch(/^ {2}Module\.Keys +7$/m);
    expect(r.stdout).toMatch(/^ {2}Module\.Lines +3$/m);
    expect(r.stderr).toMatch(new RegExp(`^Submitted job ${jobId} to local stack "${PREFIX}"`));
    expect(r.stderr).toMatch(/\| map 2\/2 done, 0 running \| reduce 2\/2 done, 0 running \|/);
    const words = readdirSync(s.path('mod-out'))
      .filter((f) => f.startsWith('part-'))
      .flatMap((f) => readFileSync(s.path('mod-out', f), 'utf8').trim().split('\n'))
      .sort();
    expect(words).toEqual(['a\t1', 'dog\t1', 'end\t1', 'fox\t1', 'lazy\t1', 'quick\t2', 'the\t2'].sort());

    const [jobs, recent, detail] = await Promise.all([mr('jobs', '--json'), mr('status'), mr('status', jobId)]);
    expect(JSON.parse(jobs.stdout)).toEqual(expect.arrayContaining([expect.objectContaining({ jobId, status: 'SUCCEEDED' })]));
    expect(recent.stdout).toMatch(/^JOB +NAME +STATUS +PHASE +MAPS +REDUCES +CREATED +DURATION/);
    expect(recent.stdout).toMatch(new RegExp(`^${jobId} +- +SUCCEEDED +DONE +2/2 +2/2 `, 'm'));
    expect(detail.code).toBe(0);
    expect(detail.stdout).toMatch(/^Mapper: +module count\.mjs +Reducer: module count\.mjs \(2\)$/m);
    expect(detail.stdout).toMatch(/^Reduce: +2\/2 committed \(committed 2\)$/m);
    expect(detail.stdout).toMatch(/^Last task status: m-0000[01]: mapped m-0000[01]$/m);
    expect(detail.stdout).toMatch(/^ {2}Module\.Lines +3$/m);
  });

  it('case 2 (S3) and case 1 (S3): an output holding objects is refused and left intact; a missing input is named', async () => {
    await access.blobs.putBytes(access.bucket, 'results/keep/part-00000', 'precious\n');
    const before = (await access.jobs.listRecent(100)).length;
    const taken = await mr('submit', '-i', 'in', '-o', `s3://${access.bucket}/results/keep/`, '-m', 'cat');
    expect(taken.code, taken.stderr).toBe(2);
    expect(taken.stderr).toMatch(
      new RegExp(`error: Output s3://${access.bucket}/results/keep/ already exists and holds objects: choose another output, remove it, or pass --overwrite`),
    );
    expect(await access.readText('results/keep/part-00000')).toBe('precious\n');
    const missing = await mr('submit', '-i', `s3://${access.bucket}/nothing-here/`, '-o', `s3://${access.bucket}/results/x/`, '-m', 'cat');
    expect(missing.code, missing.stderr).toBe(2);
    expect(missing.stderr).toMatch(/Input s3:\/\/\S+\/nothing-here\/ does not exist \(no object or prefix with that name\): check the URI\./);
    const bucket = await mr('submit', '-i', 's3://no-such-bucket-mr/in/', '-o', `s3://${access.bucket}/results/x/`, '-m', 'cat');
    expect(bucket.code, bucket.stderr).toBe(2);
    expect(bucket.stderr).toMatch(/Bucket of s3:\/\/no-such-bucket-mr\/in\/ does not exist/);
    for (const r of [taken, missing, bucket]) expect(r.stderr).not.toMatch(STACK_LINE);
    expect((await access.jobs.listRecent(100)).length).toBe(before); // no job was created
  });

  it("case 7: an output inside the framework's own prefixes is refused", async () => {
    for (const out of ['tmp/x/', 'jobs/some-other-job/output/', 'pipelines/']) {
      const r = await mr('submit', '-i', 'in', '-o', `s3://${access.bucket}/${out}`, '-m', 'cat');
      expect(r.code, `${out}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toMatch(/is inside the framework's own area of the job bucket \(tmp\/, jobs\/, pipelines\/, incoming\/ are reserved\): choose another prefix/);
    }
  });

  it('case 6: malformed manifests uploaded straight to S3 fail the job with the reason, shown by `status`', async () => {
    const base = { input: `s3://${access.bucket}/data/in.txt`, mapper: 'cat' };
    const cases: [string, string, RegExp][] = [
      ['json', '{"input": "s3://b/in/", "output": ', /- not valid JSON: /],
      ['unknown', JSON.stringify({ ...base, reducers: 2 }), /- unknown field "reducers" \(allowed: input, output, mapper/],
      ['type', JSON.stringify({ ...base, numReducers: '2' }), /- numReducers: expected number, got "2"/],
      // numReducers 0 is map-only (Hadoop's -numReduceTasks 0), so only a negative count is refused.
      ['negative', JSON.stringify({ ...base, numReducers: -3 }), /- numReducers: must be at least 0 \(got -3\)/],
      ['nomapper', JSON.stringify({ input: base.input }), /- mapper: is required/],
    ];
    const ids = cases.map(([name]) => `bad-${name}-${randomBytes(3).toString('hex')}`);
    await Promise.all(
      cases.map(([name, text], i) => {
        // Every manifest gets its own output, so we can check that nothing was written there.
        const body = name === 'json' ? text : text.replace(/^\{/, `{"output":"s3://${access.bucket}/results/${ids[i]}/",`);
        return access.blobs.putBytes(access.bucket, manifestKey(ids[i]!), body);
      }),
    );
    for (const [i, [name, , reason]] of cases.entries()) {
      const job = await access.finishedJob(ids[i]!);
      expect(job.status, name).toBe('FAILED');
      expect(job.reason, name).toMatch(/^Invalid job manifest:\n/);
      expect(job.reason, name).toMatch(reason);
      expect(await access.blobs.hasAny(access.bucket, `results/${ids[i]}/`)).toBe(false);
    }
    const shown = await Promise.all(ids.map((id) => mr('status', id)));
    for (const [i, r] of shown.entries()) {
      expect(r.code, cases[i]![0]).toBe(1); // status exits 1 for a FAILED job
      expect(r.stdout).toMatch(new RegExp(`^Job: +${ids[i]}\\nStatus: +FAILED +Phase: MAP\\n`));
      expect(r.stdout).toMatch(/^Reason: +Invalid job manifest:\n +- /m);
      expect(r.stdout).toMatch(cases[i]![2]);
    }
    const failed = await mr('jobs', '--status', 'failed');
    for (const id of ids) expect(failed.stdout).toMatch(new RegExp(`^${id} .* FAILED .* Invalid job manifest:`, 'm'));
  });

  it('case 10: cancel stops scheduling, stops the running tasks and marks the job CANCELLED', async () => {
    const output = `s3://${access.bucket}/results/slow/`;
    const child = spawnCli(['submit', '--wait', '--prefix', PREFIX, '-i', 'slow', '-o', output, '-m', 'sleep 99'], env, s.dir);
    const waiting = new Output(child);
    await waiting.waitFor(/map 0\/2 done, 2 running/, 60_000);
    const jobId = /Submitted job (\S+)/.exec(waiting.stderr)?.[1] as string;

    const live = await mr('status', jobId);
    expect(live.code).toBe(0);
    expect(live.stdout).toMatch(/^Status: +RUNNING +Phase: MAP$/m);
    expect(live.stdout).toMatch(/^Map: +0\/2 committed \(running 2\)$/m);
    expect(live.stdout.match(/^ {2}\S+ {2}last heartbeat \d+\.\ds ago {2}running m-0000[01]$/gm)).toHaveLength(2);

    const cancel = await mr('cancel', jobId);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(cancel.stdout).toBe(
      `Job ${jobId} cancelled; running tasks stop within a few seconds. Check with: mapreduce status ${jobId} --prefix ${PREFIX}\n`,
    );
    const r = await finished(child, waiting, 60_000);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`Job ${jobId} CANCELLED after [\\d.]+s: cancelled by user\\n`));
    expect(r.stderr).toMatch(/CANCELLED phase MAP \| map 0\/2 done, 0 running/);

    const after = await mr('status', jobId, '--json');
    expect(after.code).toBe(1);
    const job = JSON.parse(after.stdout) as { status: string; reason: string; tasks: { map: Record<string, number> }; workers: { runningTask?: string }[] };
    expect(job).toMatchObject({ status: 'CANCELLED', reason: 'cancelled by user' });
    expect(job.tasks.map.RUNNING).toBeUndefined();
    expect(job.workers.filter((w) => w.runningTask?.startsWith(jobId))).toEqual([]);
    expect(await access.blobs.hasAny(access.bucket, 'results/slow/_SUCCESS')).toBe(false);

    const again = await mr('cancel', jobId);
    expect(again.code).toBe(2);
    expect(again.stderr).toBe(`error: Job ${jobId} is already CANCELLED; nothing to cancel.\n`);
    const unknown = await mr('cancel', 'no-such-job');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^error: No job "no-such-job" on local stack/);
  });
});
