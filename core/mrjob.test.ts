import { describe, expect, it } from 'vitest';
import { splitCommandLine } from './argv.js';
import { UsageError } from './errors.js';
import { JobConfKeys } from './jobconf-keys.js';
import { parseManifest } from './manifest.js';
import { stepView } from './steps.js';
import {
  manifestSteps,
  type MrjobDescription,
  type MrjobStep,
  parseHashPath,
  planMrjob,
  SORT_VALUES_JOBCONF,
  SORT_VALUES_PARTITIONER,
} from './mrjob.js';

/** A description as mrjob 0.7.4's launcher gives it for a plain two-step job. */
function job(over: Partial<MrjobDescription> = {}): MrjobDescription {
  return {
    script: 'jobs/top_word.py',
    steps: [
      { type: 'streaming', mapper: { type: 'script' }, combiner: { type: 'script' }, reducer: { type: 'script' } },
      { type: 'streaming', reducer: { type: 'script' } },
    ],
    sortValues: false,
    jobconf: {},
    partitioner: null,
    files: [],
    dirs: [],
    archives: [],
    extraArgs: [],
    cmdenv: {},
    pythonBin: null,
    shBin: null,
    setup: [],
    libjars: [],
    hadoopInputFormat: null,
    hadoopOutputFormat: null,
    inputPaths: [],
    ...over,
  };
}

const streaming = (s: Omit<MrjobStep, 'type'>): MrjobStep => ({ type: 'streaming', ...s });

describe('planMrjob: commands as mrjob\'s Hadoop runner builds them', () => {
  it('runs each script substep as `python3 job.py --step-num=N --<role>` with the passthrough arguments; a step without mapper maps with cat', () => {
    const plan = planMrjob(job({ extraArgs: ['--min-length', '3', '--label=two words'] }));
    const tail = "--min-length 3 '--label=two words'";
    expect(plan.steps).toEqual([
      {
        mapper: `python3 top_word.py --step-num=0 --mapper ${tail}`,
        combiner: `python3 top_word.py --step-num=0 --combiner ${tail}`,
        reducer: `python3 top_word.py --step-num=0 --reducer ${tail}`,
        jobconf: {},
      },
      { mapper: 'cat', reducer: `python3 top_word.py --step-num=1 --reducer ${tail}`, jobconf: {} },
    ]);
    expect(splitCommandLine(plan.steps[0]!.mapper).at(-1)).toBe('--label=two words');
    expect(plan.files).toEqual([{ path: 'jobs/top_word.py', name: 'top_word.py' }]);
  });

  it('a step without reducer is map-only (its combiner dropped, as Hadoop runs none)', () => {
    const plan = planMrjob(job({ steps: [streaming({ mapper: { type: 'script' }, combiner: { type: 'script' } })] }));
    expect(plan.steps).toEqual([{ mapper: 'python3 top_word.py --step-num=0 --mapper', jobconf: {} }]);
  });

  it('mapper_cmd/reducer_cmd run as given, split like argv and never wrapped in a shell', () => {
    const plan = planMrjob(
      job({
        steps: [
          streaming({
            mapper: { type: 'command', command: "grep -v '^#'" },
            reducer: { type: 'command', command: ['uniq', '-c'] },
          }),
        ],
      }),
    );
    expect(plan.steps[0]).toMatchObject({ mapper: "grep -v '^#'", reducer: 'uniq -c' });
    expect(splitCommandLine(plan.steps[0]!.mapper)).toEqual(['grep', '-v', '^#']);
  });

  it('a *_pre_filter runs through sh_bin -c as a pipeline into the script, as mrjob does', () => {
    const plan = planMrjob(
      job({ steps: [streaming({ mapper: { type: 'script', pre_filter: "grep -v 'x y'" }, reducer: { type: 'script' } })] }),
    );
    expect(splitCommandLine(plan.steps[0]!.mapper)).toEqual([
      '/bin/sh',
      '-ex',
      '-c',
      "grep -v 'x y' | python3 top_word.py --step-num=0 --mapper",
    ]);
    const custom = planMrjob(
      job({ shBin: ['/bin/bash'], steps: [streaming({ mapper: { type: 'script', pre_filter: 'cut -f1' } })] }),
    );
    expect(splitCommandLine(custom.steps[0]!.mapper).slice(0, 2)).toEqual(['/bin/bash', '-c']);
  });

  it('the task interpreter: our --python-bin, else the job\'s python_bin, else python3', () => {
    const one = [streaming({ mapper: { type: 'script' } })];
    expect(planMrjob(job({ steps: one }), {}, 'python3.11 -u').steps[0]!.mapper).toBe('python3.11 -u top_word.py --step-num=0 --mapper');
    expect(planMrjob(job({ steps: one, pythonBin: 'pypy3' })).steps[0]!.mapper).toBe('pypy3 top_word.py --step-num=0 --mapper');
    expect(planMrjob(job({ steps: one, pythonBin: ['/opt/py/bin/python', '-X', 'utf8'] })).steps[0]!.mapper).toBe(
      '/opt/py/bin/python -X utf8 top_word.py --step-num=0 --mapper',
    );
  });
});

describe('planMrjob: job configuration', () => {
  it('SORT_VALUES adds mrjob\'s two keys and the key-field partitioner', () => {
    const plan = planMrjob(job({ sortValues: true, steps: [streaming({ mapper: { type: 'script' }, reducer: { type: 'script' } })] }));
    expect(plan.steps[0]!.jobconf).toEqual({
      [JobConfKeys.MAP_OUTPUT_KEY_FIELDS]: '2',
      [JobConfKeys.PARTITIONER_OPTIONS]: '-k1,1',
      [JobConfKeys.PARTITIONER_CLASS]: SORT_VALUES_PARTITIONER,
    });
    expect(SORT_VALUES_JOBCONF).toEqual({
      'stream.num.map.output.key.fields': '2',
      'mapreduce.partition.keypartitioner.options': '-k1,1',
    });
  });

  it('later wins: SORT_VALUES < JOBCONF < PARTITIONER < our -D < the step\'s jobconf; null blanks a key', () => {
    const plan = planMrjob(
      job({
        sortValues: true,
        jobconf: { a: 'job', b: 'job', c: 'job', [JobConfKeys.PARTITIONER_OPTIONS]: null },
        partitioner: 'HashPartitioner',
        steps: [
          streaming({ mapper: { type: 'script' }, reducer: { type: 'script' }, jobconf: { c: 'step', d: 'step' } }),
          streaming({ reducer: { type: 'script' } }),
        ],
      }),
      { b: 'cli', c: 'cli' },
    );
    expect(plan.steps[0]!.jobconf).toEqual({
      [JobConfKeys.MAP_OUTPUT_KEY_FIELDS]: '2',
      [JobConfKeys.PARTITIONER_CLASS]: 'HashPartitioner',
      a: 'job',
      b: 'cli',
      c: 'step',
      d: 'step',
    });
    expect(plan.steps[1]!.jobconf).toMatchObject({ b: 'cli', c: 'cli' });
    // What every step shares: all but the step's own keys.
    expect(plan.jobconf).toEqual({ ...plan.steps[1]!.jobconf });
    expect(plan.jobconf).toMatchObject({ a: 'job', b: 'cli', c: 'cli' });
    expect(plan.steps[1]!.jobconf).not.toHaveProperty('d');
  });
});

describe('manifestSteps: a step\'s jobconf None removes a job-wide key for that step only', () => {
  it('a key of JOBCONF (and of our -D) blanked by step 2 is gone from step 2\'s configuration and kept in step 1\'s, as mrjob\'s _jobconf_for_step', () => {
    const plan = planMrjob(
      job({
        sortValues: true,
        jobconf: { 'my.setting': 'job', 'other.setting': 'job' },
        steps: [
          streaming({ mapper: { type: 'script' }, reducer: { type: 'script' } }),
          streaming({
            reducer: { type: 'script' },
            jobconf: { 'my.setting': null, [JobConfKeys.MAP_OUTPUT_KEY_FIELDS]: null, [JobConfKeys.PARTITIONER_OPTIONS]: null, 'from.cli': null },
          }),
        ],
      }),
      { 'from.cli': 'x' },
    );
    const steps = manifestSteps(plan);
    expect(steps[0]!.jobconf).toEqual(plan.steps[0]!.jobconf);
    expect(steps[1]!.jobconf).toMatchObject({ 'my.setting': null, 'from.cli': null, 'other.setting': 'job', [JobConfKeys.MAP_OUTPUT_KEY_FIELDS]: null });
    // Through the manifest, as the workers see each step.
    const m = parseManifest(JSON.stringify({ input: 's3://bkt/in/', output: 's3://bkt/out/', steps, jobconf: plan.jobconf }));
    expect(stepView(m, 0).jobconf).toMatchObject({ 'my.setting': 'job', 'from.cli': 'x', [JobConfKeys.MAP_OUTPUT_KEY_FIELDS]: '2' });
    const second = stepView(m, 1).jobconf;
    expect(second).toEqual(plan.steps[1]!.jobconf);
    for (const gone of ['my.setting', 'from.cli', JobConfKeys.MAP_OUTPUT_KEY_FIELDS, JobConfKeys.PARTITIONER_OPTIONS]) expect(second).not.toHaveProperty(gone);
    expect(second).toMatchObject({ 'other.setting': 'job', [JobConfKeys.PARTITIONER_CLASS]: SORT_VALUES_PARTITIONER });
  });
});

describe('planMrjob: files', () => {
  it('ships the script, FILES (path#name renames) and file arguments under their working-directory names', () => {
    const plan = planMrjob(
      job({
        files: ['jobs/stop_words.txt', 'data/v2/lookup.tsv#lookup.tsv', '/abs/model.bin#m.bin'],
        extraArgs: ['--db', { path: 'data/users.db', name: null }, '--cfg', { path: 'conf/x.json', name: 'cfg.json' }],
        steps: [streaming({ mapper: { type: 'script' } })],
      }),
    );
    expect(plan.files.map((f) => [f.path, f.name])).toEqual([
      ['jobs/top_word.py', 'top_word.py'],
      ['jobs/stop_words.txt', 'stop_words.txt'],
      ['data/v2/lookup.tsv', 'lookup.tsv'],
      ['/abs/model.bin', 'm.bin'],
      ['data/users.db', 'users.db'],
      ['conf/x.json', 'cfg.json'],
    ]);
    expect(plan.steps[0]!.mapper).toBe('python3 top_word.py --step-num=0 --mapper --db users.db --cfg cfg.json');
  });

  it('a bad hash path is a usage error', () => {
    expect(() => parseHashPath('a/b#c/d')).toThrow(UsageError);
    expect(() => parseHashPath('#name')).toThrow(UsageError);
    expect(() => parseHashPath('file#')).toThrow(UsageError);
  });
});

describe('planMrjob: what the workers cannot run is refused with the reason', () => {
  const cases: [string, Partial<MrjobDescription>, RegExp][] = [
    ['a jar step', { steps: [{ type: 'jar' }] }, /step 0 \(type "jar"\).*no JVM/],
    ['a Spark step', { steps: [streaming({ mapper: { type: 'script' } }), { type: 'spark' }] }, /step 1 \(type "spark"\).*Spark cluster/],
    ['mapper_raw', { steps: [streaming({ mapper: { type: 'script' }, input_manifest: true })] }, /mapper_raw/],
    ['setup commands', { setup: ['export X=1'] }, /setup is not supported/],
    ['LIBJARS', { libjars: ['x.jar'] }, /LIBJARS.*no JVM/],
    ['an input format', { hadoopInputFormat: 'org.x.SeqIn' }, /HADOOP_INPUT_FORMAT org\.x\.SeqIn.*TextInputFormat/],
    ['an output format', { hadoopOutputFormat: 'org.x.SeqOut' }, /HADOOP_OUTPUT_FORMAT.*TextOutputFormat/],
    ['DIRS', { dirs: ['lib/'] }, /DIRS.*archives/],
    ['ARCHIVES', { archives: ['x.tar.gz'] }, /ARCHIVES/],
    ['input files among the job arguments', { inputPaths: ['in.txt'] }, /give the input with -i/],
    ['no steps', { steps: [] }, /without steps/],
    ['an unknown substep type', { steps: [streaming({ mapper: { type: 'jar' } })] }, /mapper has type "jar"/],
  ];
  it.each(cases)('%s', (_what, over, message) => {
    expect(() => planMrjob(job(over))).toThrow(UsageError);
    expect(() => planMrjob(job(over))).toThrow(message);
  });
});
