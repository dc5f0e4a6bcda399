/**
 * `--mrjob job.py` at process level: the real CLI on a `local up` stack runs the example
 * mrjob jobs, and their output equals mrjob's own inline runner's (`python3 job.py input`),
 * compared as the job's output protocol's key/value pairs. Needs mrjob (requirements-test.txt);
 * skipped with a printed reason without it.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, type CliResult, Scratch, STACK_LINE } from '../helpers/cli.js';
import { LocalUp, uniquePrefix } from '../helpers/local-up.js';
import { REPO } from '../helpers/stack.js';

const probe = spawnSync('python3', ['-c', 'import mrjob; print(mrjob.__version__)'], { encoding: 'utf8' });
const MRJOB = probe.status === 0 ? probe.stdout.trim() : undefined;
if (!MRJOB) console.log(`[mrjob tests] skipped: mrjob is not installed for python3 (pip install -r requirements-test.txt): ${probe.stderr.trim().split('\n').at(-1) ?? ''}`);

const PREFIX = uniquePrefix('mrjob');
const EXAMPLES = path.join(REPO, 'examples', 'mrjob');
let s: Scratch;
let env: NodeJS.ProcessEnv;
let up: LocalUp | undefined;

/** `mapreduce <command> --prefix <ours> <args>`: the prefix first, since job arguments may end the line. */
const mr = ([command, ...args]: string[]) =>
  cli([command!, '--prefix', PREFIX, ...args], env, { cwd: s.dir, timeoutMs: 170_000 });

/** mrjob's own run of the job on the same input files (the inline runner unless args pick another): the reference. */
function inline(job: string, inputs: string[], args: string[] = []): string {
  const r = spawnSync('python3', [job, ...args, ...inputs], { cwd: s.dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`inline run of ${job} failed: ${r.stderr}`);
  return r.stdout;
}

/** Output lines decoded with the job's output protocol (JSONProtocol), in a stable order. */
function pairs(text: string): [unknown, unknown][] {
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l): [unknown, unknown] => {
      const tab = l.indexOf('\t');
      return [JSON.parse(l.slice(0, tab)), JSON.parse(l.slice(tab + 1))];
    })
    .sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1));
}

function partsOf(dir: string): string[] {
  return readdirSync(s.path(dir))
    .filter((f) => f.startsWith('part-'))
    .sort()
    .map((f) => readFileSync(s.path(dir, f), 'utf8'));
}

const ok = (r: CliResult) => expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);

function usageError(r: CliResult, message: RegExp): void {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).toMatch(message);
  expect(r.stderr).not.toMatch(STACK_LINE);
}

/** Sensor readings `sensor,timestamp,value`, shuffled over two files: each sensor's readings are in both. */
function writeReadings(): string[] {
  const rows: string[] = [];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
  for (let sensor = 0; sensor < 9; sensor++) {
    for (let i = 0; i < 30; i++) rows.push(`s${sensor},${1000 + (next() % 90000)},${(next() % 5000) / 100}`);
  }
  rows.sort(() => (next() % 2 === 0 ? -1 : 1));
  const half = rows.length / 2;
  return [
    s.file('readings/a.csv', `${rows.slice(0, half).join('\n')}\n`),
    s.file('readings/b.csv', `${rows.slice(half).join('\n')}\n`),
  ];
}

beforeAll(() => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
});
afterAll(() => s.remove());

describe.skipIf(!MRJOB)(`--mrjob (mrjob ${MRJOB ?? 'missing'})`, () => {
  beforeAll(async () => {
    up = await LocalUp.start(PREFIX, env, 2);
  });
  afterAll(async () => {
    if (up) expect((await up.stop()).code).toBe(0);
  });

  it('a SORT_VALUES job (4 map tasks, 3 reducers): every reducer sees each sensor\'s readings in order; output equals mrjob inline', async () => {
    const files = writeReadings();
    const job = path.join(EXAMPLES, 'sensor_readings.py');
    const r = await mr(['submit', '--wait', '--mrjob', job, '-i', 'readings', '-o', 'sensors', '-R', '3', '--num-mappers', '4']);
    ok(r);
    const parts = partsOf('sensors');
    expect(parts).toHaveLength(3);
    // Records of one sensor meet in one reducer, and more than one reducer has work.
    expect(parts.filter((p) => p !== '').length).toBeGreaterThan(1);
    const ours = pairs(parts.join(''));
    expect(ours).toHaveLength(9);
    expect(ours).toEqual(pairs(inline(job, files)));
  });

  it('a multi-step job (count words with a combiner, then the most used) with FILES and a passthrough option equals mrjob inline', async () => {
    const job = path.join(EXAMPLES, 'most_used_word.py');
    const inputs = ['alice.txt', 'mapreduce.txt'].map((f) => path.join(REPO, 'examples', 'data', f));
    const r = await mr(['submit', '--wait', '--mrjob', job, '-i', path.join(REPO, 'examples', 'data'), '-o', 'top', '-R', '2', '--num-mappers', '2', '--', '--min-length', '4']);
    ok(r);
    const ours = pairs(partsOf('top').join(''));
    expect(ours).toHaveLength(1);
    expect(ours).toEqual(pairs(inline(job, inputs, ['--min-length', '4'])));
  });

  it('a step\'s jobconf None removes a JOBCONF key for that step only, as mrjob\'s runners do', async () => {
    const job = s.file(
      'jobs/step_conf.py',
      `from mrjob.compat import jobconf_from_env
from mrjob.job import MRJob
from mrjob.step import MRStep


class StepConf(MRJob):
    JOBCONF = {'my.team': 'blue', 'my.colour': 'red'}

    def steps(self):
        return [
            MRStep(mapper=self.tag, reducer=self.count),
            MRStep(mapper=self.tag_again, reducer=self.count, jobconf={'my.team': None}),
        ]

    def seen(self, step):
        return [step, jobconf_from_env('my.team', 'unset'), jobconf_from_env('my.colour', 'unset')]

    def tag(self, _, line):
        yield self.seen('step1'), 1

    def count(self, key, ones):
        yield key, sum(ones)

    def tag_again(self, key, n):
        yield key + self.seen('step2'), n


if __name__ == '__main__':
    StepConf.run()
`,
    );
    const input = s.file('conf/in.txt', 'a\nb\nc\n');
    ok(await mr(['submit', '--wait', '--mrjob', job, '-i', 'conf', '-o', 'conf-out']));
    const ours = pairs(partsOf('conf-out').join(''));
    expect(ours).toEqual([[['step1', 'blue', 'red', 'step2', 'unset', 'red'], 3]]);
    expect(ours).toEqual(pairs(inline(job, [input])));
  });

  it('a single-step job with a mapper_pre_filter, a passthrough option, a file argument and FILES equals mrjob\'s local runner', async () => {
    s.file('words/a.txt', '# a comment line\nApple pie and apple tart\nbanana Bread\n');
    s.file('words/b.txt', 'bread and APPLE\n# skipped too\ncherry\n');
    s.file('jobs/weights.txt', 'apple 10\nbread 3\n');
    s.file('jobs/prefix.txt', 'w:');
    const job = s.file(
      'jobs/weighted_words.py',
      `from mrjob.job import MRJob

class MRWeightedWords(MRJob):
    FILES = ['weights.txt']

    def configure_args(self):
        super().configure_args()
        self.add_passthru_arg('--default-weight', type=int, default=1)
        self.add_file_arg('--prefix-file')

    def mapper_pre_filter(self):
        return "grep -v '^#'"

    def mapper_init(self):
        self.weights = dict((w, int(n)) for w, n in (l.split() for l in open('weights.txt')))
        self.prefix = open(self.options.prefix_file).read().strip()

    def mapper(self, _, line):
        assert not line.startswith('#'), 'the pre-filter did not run'
        for word in line.lower().split():
            yield self.prefix + word, self.weights.get(word, self.options.default_weight)

    def reducer(self, word, weights):
        yield word, sum(weights)

if __name__ == '__main__':
    MRWeightedWords.run()
`,
    );
    const jobArgs = ['--default-weight', '2', '--prefix-file', 'jobs/prefix.txt'];
    const r = await mr(['submit', '--wait', '--mrjob', job, '-i', 'words', '-o', 'weighted', '-R', '2', '--', ...jobArgs]);
    ok(r);
    const ours = pairs(partsOf('weighted').join(''));
    expect(ours).toContainEqual(['w:apple', 30]);
    // mrjob's inline runner cannot run a pre-filter (a subprocess); its local runner can.
    expect(ours).toEqual(pairs(inline(job, [s.path('words/a.txt'), s.path('words/b.txt')], ['-r', 'local', ...jobArgs])));
  });
});

describe.skipIf(!MRJOB)('--mrjob usage errors (nothing starts)', () => {
  beforeAll(() => {
    s.file('in/a.txt', 'x\n');
  });

  it('a missing job file, a job whose arguments mrjob rejects, a script that runs no job, a job argument without --mrjob, -m with --mrjob, mapper_raw', async () => {
    s.file('not_a_job.py', 'print("hello")\n');
    s.file(
      'raw_job.py',
      'from mrjob.job import MRJob\nclass R(MRJob):\n    def mapper_raw(self, path, uri):\n        yield uri, 1\nif __name__ == "__main__":\n    R.run()\n',
    );
    const [missing, badArg, notJob, stray, both, raw] = await Promise.all([
      mr(['run', '--mrjob', 'nope.py', '-i', 'in', '-o', 'o1']),
      mr(['run', '--mrjob', path.join(EXAMPLES, 'most_used_word.py'), '-i', 'in', '-o', 'o2', '--', '--no-such-option']),
      mr(['run', '--mrjob', 'not_a_job.py', '-i', 'in', '-o', 'o3']),
      mr(['run', '-m', 'cat', '-i', 'in', '-o', 'o4', '--min-length', '3']),
      mr(['run', '--mrjob', path.join(EXAMPLES, 'sensor_readings.py'), '-m', 'cat', '-i', 'in', '-o', 'o5']),
      mr(['run', '--mrjob', 'raw_job.py', '-i', 'in', '-o', 'o6']),
    ]);
    usageError(missing, /mrjob job nope\.py does not exist or is not a file/);
    usageError(badArg, /most_used_word\.py` failed while describing its steps \(exit 2\):[\s\S]*unrecognized arguments: --no-such-option/);
    usageError(notJob, /not_a_job\.py did not run an mrjob job: it must end with `if __name__ == '__main__': MRYourJob\.run\(\)`/);
    usageError(stray, /unknown option '--min-length' \(job arguments go with --mrjob job\.py only\)/);
    usageError(both, /--mrjob builds the mapper, combiner and reducer from the job's steps: drop --mapper/);
    usageError(raw, /mrjob job raw_job\.py: step 0's mapper_raw is not supported: mapper_raw needs an input manifest/);
  });
});
