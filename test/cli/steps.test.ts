/**
 * `--steps file.json` (a multi-step job from the CLI): mistakes are caught before any
 * job exists, each with one clear message and a non-zero exit. The job itself running
 * is test/pipeline/multi-step.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, Scratch, STACK_LINE } from '../helpers/cli.js';
import { uniquePrefix } from '../helpers/local-up.js';

const PREFIX = uniquePrefix('steps-cli');
let s: Scratch;
let env: NodeJS.ProcessEnv;
const run = (...args: string[]) => cli(['run', '--prefix', PREFIX, ...args], env, { cwd: s.dir });

beforeAll(() => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  s.file('in/a.txt', 'hello world\n');
  s.script('map.sh', 'cat');
  s.file('good.json', JSON.stringify([{ mapper: 'map.sh', reducer: 'cat' }, { mapper: 'cat' }]));
  s.file('nomapper.json', JSON.stringify({ steps: [{ mapper: 'map.sh' }, { reducer: 'cat' }] }));
  s.file('notalist.json', JSON.stringify({ mapper: 'cat' }));
});

afterAll(() => s?.remove());

describe('mapreduce run --steps', () => {
  it('needs exactly one of -m or --steps, and no -r/-c beside --steps', async () => {
    for (const [args, pattern] of [
      [['-i', 'in', '-o', 'out'], /Give a mapper \(-m, with -r\/-c\) or --steps/],
      [['-i', 'in', '-o', 'out', '-m', 'cat', '--steps', 'good.json'], /not both/],
      [['-i', 'in', '-o', 'out', '--steps', 'good.json', '-r', 'cat'], /With --steps, each step in the file names its reducer/],
    ] as const) {
      const r = await run(...args);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(pattern);
      expect(r.stderr).not.toMatch(STACK_LINE);
    }
  });

  it('a bad steps file is named, with the step and field', async () => {
    const missing = await run('-i', 'in', '-o', 'out', '--steps', 'nomapper.json');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/steps\.1\.mapper: is required/);
    const shape = await run('-i', 'in', '-o', 'out', '--steps', 'notalist.json');
    expect(shape.code).toBe(2);
    expect(shape.stderr).toMatch(/expected a JSON list of steps/);
    const absent = await run('-i', 'in', '-o', 'out', '--steps', 'absent.json');
    expect(absent.code).toBe(2);
    expect(absent.stderr).toMatch(/--steps absent\.json: ENOENT/);
  });
});
