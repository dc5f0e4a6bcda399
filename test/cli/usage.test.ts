/**
 * The real `mapreduce` binary on mistakes it catches before any job exists:
 * help, bad local paths (cases 1-3), bad URIs and ids (case 7), and a missing
 * stack, region or credentials (case 9). Each must exit non-zero with one clear,
 * actionable message, no stack trace, and touch nothing already stored.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, type CliResult, Scratch, STACK_LINE } from '../helpers/cli.js';
import { StackAccess, stackProcesses, uniquePrefix } from '../helpers/local-up.js';
import { freePort } from '../../local/free-port.js';

const PREFIX = uniquePrefix('usage');
let s: Scratch;
let env: NodeJS.ProcessEnv;

/** `mapreduce run` with the given flags, in the scratch dir, on this file's prefix. */
const run = (...args: string[]) => cli(['run', '--prefix', PREFIX, ...args], env, { cwd: s.dir });

function expectUsageError(r: CliResult, ...patterns: RegExp[]): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  for (const p of patterns) expect(r.stderr).toMatch(p);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).not.toMatch(STACK_LINE);
}

beforeAll(() => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  s.file('in/a.txt', 'hello world\n');
  s.mkdir('empty');
  s.script('map.sh', 'cat');
  s.script('notexec.sh', 'cat', false);
});

afterAll(async () => {
  // A mistake costs nothing: no process was started and no resource created for this prefix.
  expect(stackProcesses(PREFIX)).toEqual([]);
  const access = new StackAccess(PREFIX);
  await expect(access.blobs.hasAny(access.bucket, '')).rejects.toThrow(/bucket/i);
  access.close();
  s.remove();
});

describe('help', () => {
  it('mapreduce --help lists every command, the exit codes and examples', async () => {
    const r = await cli(['--help'], env);
    expect(r.code).toBe(0);
    for (const c of ['run', 'submit', 'status', 'jobs', 'logs', 'report', 'cancel', 'local', 'worker']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c}\\b`, 'm'));
    }
    expect(r.stdout).toMatch(/Examples:/);
    expect(r.stdout).toMatch(/Exit codes: 0 success, 1 job FAILED or CANCELLED, 2 usage error/);
  });

  it('every subcommand has --help with examples', async () => {
    const commands = [['run'], ['submit'], ['status'], ['jobs'], ['logs'], ['report'], ['cancel'], ['local'], ['local', 'up'], ['local', 'down'], ['local', 'status'], ['worker']];
    const results = await Promise.all(commands.map((c) => cli([...c, '--help'], env)));
    results.forEach((r, i) => {
      expect(r.code, commands[i]?.join(' ')).toBe(0);
      expect(r.stdout, commands[i]?.join(' ')).toMatch(/Usage: mapreduce /);
      expect(r.stdout, commands[i]?.join(' ')).toMatch(/Examples?:\n {2}\$ (\S+=\S+ )*mapreduce /);
    });
  });

  it('an unknown command or option, or a missing flag, is a usage error (exit 2) pointing at --help', async () => {
    const [unknown, option, missing] = await Promise.all([
      cli(['stauts'], env),
      cli(['status', '--bogus'], env),
      cli(['run', '-i', 'in'], env),
    ]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command 'stauts'/);
    expect(unknown.stderr).toMatch(/Did you mean status\?/);
    expect(option.code).toBe(2);
    expect(option.stderr).toMatch(/unknown option '--bogus'/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/required option '-o, --output <path\|s3:\/\/uri>' not specified/);
    expect(missing.stderr).toMatch(/run with --help for usage and examples/);
  });
});

describe('bad input caught before anything starts', () => {
  it('case 1: an input path that does not exist', async () => {
    expectUsageError(await run('-i', 'nope/', '-o', 'out', '-m', './map.sh'), /Input nope\/ does not exist: give an existing file or directory/);
  });

  it('case 1: an empty input directory', async () => {
    expectUsageError(
      await run('-i', 'empty', '-o', 'out', '-m', './map.sh'),
      /Input directory empty is empty \(no files in it\): add input files, or point --input elsewhere\./,
    );
  });

  it('case 2: an output that already exists is refused without --overwrite and left intact', async () => {
    s.file('out-existing/part-00000', 'precious results\n');
    s.file('out-existing/notes.txt', 'keep me\n');
    const r = await run('-i', 'in', '-o', 'out-existing', '-m', './map.sh');
    expectUsageError(r, /Output out-existing already exists and is not empty: choose another output, remove it, or pass --overwrite/);
    expect(readFileSync(s.path('out-existing/part-00000'), 'utf8')).toBe('precious results\n');
    expect(readFileSync(s.path('out-existing/notes.txt'), 'utf8')).toBe('keep me\n');
    expect(readdirSync(s.path('out-existing')).sort()).toEqual(['notes.txt', 'part-00000']);
  });

  it('case 3: a mapper or reducer that does not exist', async () => {
    expectUsageError(await run('-i', 'in', '-o', 'out', '-m', './missing_map.sh'), /Mapper \.\/missing_map\.sh does not exist: check the path/);
    expectUsageError(
      await run('-i', 'in', '-o', 'out', '-m', './map.sh', '-r', 'no_such_reducer'),
      /Reducer "no_such_reducer" is neither a file here nor a program on PATH: give the path of your script, e\.g\. \.\/no_such_reducer\./,
    );
    expectUsageError(await run('-i', 'in', '-o', 'out', '-m', 'missing.ts'), /Mapper module missing\.ts does not exist/);
  });

  it('case 3: a mapper that is not executable, or is a directory', async () => {
    expectUsageError(await run('-i', 'in', '-o', 'out', '-m', './notexec.sh'), /Mapper \.\/notexec\.sh is not executable: run `chmod \+x \.\/notexec\.sh`\./);
    expectUsageError(await run('-i', 'in', '-o', 'out', '-m', './in'), /Mapper \.\/in is a directory, not an executable file/);
  });

  it('case 7: invalid S3 URIs and keys with ".."', async () => {
    const cases: [string[], RegExp][] = [
      [['-i', 's3://Bad_Bucket/x', '-o', 'out'], /Invalid S3 URI "s3:\/\/Bad_Bucket\/x": "Bad_Bucket" is not a valid bucket name/],
      [['-i', 'in', '-o', 's3:/bucket/out'], /Invalid --output "s3:\/bucket\/out": give a local path or an S3 URI of the form s3:\/\/<bucket>\/<key>/],
      [['-i', 'https://example.com/data', '-o', 'out'], /Invalid --input "https:\/\/example.com\/data"/],
      [['-i', 'in', '-o', 's3://my-bucket/out/../other/'], /Invalid S3 key "s3:\/\/my-bucket\/out\/\.\.\/other\/": "\.", "\.\." and empty path segments are not allowed/],
      [['-i', 's3://my-bucket/a//b', '-o', 'out'], /empty path segments are not allowed/],
    ];
    const results = await Promise.all(cases.map(([flags]) => run(...flags, '-m', './map.sh')));
    results.forEach((r, i) => expectUsageError(r, cases[i]![1]));
    // Nothing was written where the malformed URI would have pointed locally.
    expect(readdirSync(s.dir)).not.toContain('s3:');
  });

  it('case 7: job and task ids that would address other keys are refused', async () => {
    const [status, logs, task, cancel, prefix, report] = await Promise.all([
      cli(['status', '../other-job'], env),
      cli(['logs', 'jobs/x'], env),
      cli(['logs', 'job-1', '--task', '../../pipelines/p'], env),
      cli(['cancel', 'a/../b'], env),
      cli(['status', '--prefix', 'Bad_Prefix'], env),
      cli(['report', '../x'], env),
    ]);
    expectUsageError(status, /"\.\.\/other-job" is not a valid job id/);
    expectUsageError(logs, /"jobs\/x" is not a valid job id/);
    expectUsageError(task, /"\.\.\/\.\.\/pipelines\/p" is not a task id: use m-NNNNN for map tasks or r-NNNNN/);
    expectUsageError(cancel, /"a\/\.\.\/b" is not a valid job id/);
    expectUsageError(prefix, /Invalid --prefix "Bad_Prefix"/);
    expectUsageError(report, /"\.\.\/x" is not a valid job id/);
  });
});

describe('case 9: no stack, no region, no credentials', () => {
  it('no local stack running: exit 3, naming the endpoint and `mapreduce local up`', async () => {
    const endpoint = `http://127.0.0.1:${await freePort()}`;
    const results = await Promise.all([
      cli(['status', '--endpoint', endpoint], env),
      cli(['jobs'], { ...env, AWS_ENDPOINT_URL: endpoint }),
      cli(['submit', '--endpoint', endpoint, '-i', 'in', '-o', 's3://b-1/out/', '-m', './map.sh'], env, { cwd: s.dir }),
    ]);
    for (const r of results) {
      expect(r.code, r.stderr).toBe(3);
      expect(r.stderr).toContain(`No local stack answers on ${endpoint}. Start one with \`mapreduce local up\``);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('no region or profile for --stack: exit 3, telling to set AWS_REGION or AWS_PROFILE', async () => {
    const home = s.path('empty-home');
    s.file('empty-home/.placeholder', '');
    const bare = { PATH: process.env.PATH, HOME: home, MR_STATE_DIR: s.path('state') };
    const r = await cli(['status', '--stack', 'X'], bare);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/No AWS region configured for --stack\. Set AWS_REGION .*or set AWS_PROFILE/);
    expect(r.stderr).toMatch(/mapreduce local up/);
    expect(r.stderr).not.toMatch(STACK_LINE);
    expect(r.stdout).toBe('');
  });

  it('a region but no credentials: exit 3, telling to set AWS_PROFILE or keys', async () => {
    const home = s.path('empty-home');
    const bare = {
      PATH: process.env.PATH,
      HOME: home,
      MR_STATE_DIR: s.path('state'),
      AWS_REGION: 'eu-west-1',
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const r = await cli(['jobs', '--stack', 'X'], bare);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/No AWS credentials found\. Set AWS_PROFILE .* or AWS_ACCESS_KEY_ID\/AWS_SECRET_ACCESS_KEY/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('--json turns a failure into one JSON error event on stdout', async () => {
    const r = await cli(['run', '--json', '-i', 'nope', '-o', 'out', '-m', './map.sh'], env, { cwd: s.dir });
    expect(r.code).toBe(2);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ event: 'error', error: 'UsageError', exitCode: 2 });
  });
});
