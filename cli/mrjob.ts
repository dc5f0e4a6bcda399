/**
 * `--mrjob job.py`: ask an mrjob job what it would hand its runner, then plan its
 * streaming steps (core/mrjob.ts).
 *
 * mrjob 0.7 removed `job.py --steps`: its launcher now passes the steps (and SORT_VALUES,
 * JOBCONF, FILES, passthrough arguments...) to the runner in-process. So we run the job
 * script itself, with its arguments, the way `python3 job.py -r hadoop` would, but with
 * `MRJob.run_job` replaced by a function that prints the runner's keyword arguments
 * (`MRJob._runner_kwargs()`) as JSON instead of starting a runner. The job parses its own
 * arguments (a bad one fails as it would under mrjob), and whichever class the script's
 * `if __name__ == '__main__'` runs is the one described.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { UsageError } from '../core/errors.js';
import type { ManifestInput } from '../core/manifest.js';
import { manifestSteps, type MrjobDescription, MrjobDescriptionSchema, type MrjobPlan, planMrjob } from '../core/mrjob.js';
import { jobConfFromFlags } from './jobconf-flags.js';
import type { JobFlags } from './job-flags.js';

/** The line before the description on stdout (the job may print its own lines). */
const MARKER = '@@mapreduce-mrjob-description@@';
/** How long a job may take to describe itself (it only imports and parses arguments). */
const DESCRIBE_TIMEOUT_MS = 60_000;

/** Run with `python3 -c DESCRIBE job.py [job args]`. */
const DESCRIBE_PY = `
import json, os, runpy, sys
from mrjob.job import MRJob

def java(v):
    # mrjob's combine_jobconfs: None blanks a key, booleans in Java form.
    if v is None or isinstance(v, str):
        return v
    if isinstance(v, bool):
        return 'true' if v else 'false'
    return str(v)

def describe(self):
    kw = self._runner_kwargs()
    steps = kw.get('steps') or []
    for step in steps:
        if step.get('jobconf'):
            step['jobconf'] = {str(k): java(v) for k, v in step['jobconf'].items()}
    extra = [a if isinstance(a, str) else {'path': a['path'], 'name': a.get('name')}
             for a in kw.get('extra_args') or []]
    out = {
        'script': kw.get('mr_job_script') or sys.argv[0],
        'steps': steps,
        'sortValues': bool(kw.get('sort_values')),
        'jobconf': {str(k): java(v) for k, v in (kw.get('jobconf') or {}).items()},
        'partitioner': kw.get('partitioner'),
        'files': list(kw.get('upload_files') or []),
        'dirs': list(kw.get('upload_dirs') or []),
        'archives': list(kw.get('upload_archives') or []),
        'extraArgs': extra,
        'cmdenv': {str(k): str(v) for k, v in (kw.get('cmdenv') or {}).items()},
        'pythonBin': kw.get('task_python_bin') or kw.get('python_bin'),
        'shBin': kw.get('sh_bin'),
        'setup': list(kw.get('setup') or []),
        'libjars': list(kw.get('libjars') or []),
        'hadoopInputFormat': kw.get('hadoop_input_format'),
        'hadoopOutputFormat': kw.get('hadoop_output_format'),
        'inputPaths': [p for p in (kw.get('input_paths') or []) if p != '-'],
    }
    sys.stdout.write('\\n${MARKER}\\n' + json.dumps(out, default=str) + '\\n')
    sys.stdout.flush()

MRJob.run_job = describe
sys.argv = sys.argv[1:]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
runpy.run_path(sys.argv[0], run_name='__main__')
`;

/** Words that make mrjob run a task instead of the job (mrjob's make_runner refuses them too). */
const TASK_SWITCHES = /^--(mapper|reducer|combiner|step-num|spark)(=|$)/;

function tail(text: string, lines = 12): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Describe an mrjob job by running its script locally with `python` (`python3`).
 * @throws UsageError when the script is missing, mrjob or python is missing, or the job fails to describe itself.
 */
export async function describeMrjob(script: string, args: readonly string[], python = 'python3'): Promise<MrjobDescription> {
  if (!existsSync(script) || !statSync(script).isFile()) {
    throw new UsageError(`mrjob job ${script} does not exist or is not a file: give the path of the job's .py file (--mrjob).`);
  }
  const bad = args.find((a) => TASK_SWITCHES.test(a));
  if (bad !== undefined) {
    throw new UsageError(`${bad} is chosen per step by --mrjob: leave it out of the job's arguments.`);
  }
  const label = `${python} ${script}`;
  const { code, stdout, stderr, error } = await new Promise<{ code: number | null; stdout: string; stderr: string; error?: Error }>(
    (resolve) => {
      const child = spawn(python, ['-c', DESCRIBE_PY, script, ...args], {
        stdio: ['ignore', 'pipe', 'pipe'],
        timeout: DESCRIBE_TIMEOUT_MS,
      });
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
      child.on('error', (e) => resolve({ code: null, stdout: out, stderr: err, error: e }));
      child.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
    },
  );
  if (error) {
    throw new UsageError(`Cannot run ${python} to read the mrjob job ${script}: ${error.message}. Install Python 3 (and mrjob).`, {
      cause: error,
    });
  }
  if (/No module named '?mrjob/.test(stderr)) {
    throw new UsageError(`mrjob is not installed for ${python}: install it (python3 -m pip install mrjob) to run ${script}.`);
  }
  if (code !== 0) {
    throw new UsageError(`\`${label}\` failed while describing its steps (exit ${code ?? 'by signal'}):\n${tail(stderr)}`);
  }
  const at = stdout.lastIndexOf(`${MARKER}\n`);
  if (at < 0) {
    throw new UsageError(
      `${script} did not run an mrjob job: it must end with \`if __name__ == '__main__': MRYourJob.run()\`.`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(stdout.slice(at + MARKER.length + 1));
  } catch (err) {
    throw new UsageError(`${script} printed after its description; it must not write to stdout when it is not a task.`, { cause: err });
  }
  const parsed = MrjobDescriptionSchema.safeParse(json);
  if (!parsed.success) {
    throw new UsageError(`Unexpected description of ${script} from mrjob (is it mrjob 0.7?): ${parsed.error.message}`);
  }
  return parsed.data;
}

/**
 * Describe and plan an mrjob job, checking that every file it ships exists.
 * @param cliConf our `-D`/`--partitioner`/... flags as a job configuration.
 */
export async function prepareMrjob(
  script: string,
  args: readonly string[],
  cliConf: Readonly<Record<string, string>>,
  pythonBin?: string,
): Promise<MrjobPlan> {
  const plan = planMrjob(await describeMrjob(script, args), cliConf, pythonBin);
  for (const file of plan.files) {
    if (!existsSync(file.path) || !statSync(file.path).isFile()) {
      throw new UsageError(`mrjob job ${script} ships ${file.path} (FILES, --files or a file argument), which does not exist.`);
    }
  }
  return plan;
}

/** What a job runs, as manifest fields: its step(s), its job configuration and environment. */
export type JobSteps = Pick<ManifestInput, 'mapper' | 'reducer' | 'combiner' | 'steps'> & {
  jobconf: Record<string, string>;
  env: Readonly<Record<string, string>>;
};

/**
 * The steps of `--mrjob job.py`: one step as the manifest's mapper/reducer/combiner, several
 * as `steps` (step N's output is step N+1's input). Ships the job's files through `ship(name, localPath)`.
 */
export async function mrjobSteps(f: JobFlags, ship: (name: string, local: string) => void): Promise<JobSteps> {
  const given = (['mapper', 'reducer', 'combiner'] as const).filter((k) => f[k] !== undefined);
  if (given.length > 0) {
    throw new UsageError(`--mrjob builds the mapper, combiner and reducer from the job's steps: drop --${given.join(', --')}.`);
  }
  const plan = await prepareMrjob(f.mrjob!, f.jobArgs ?? [], jobConfFromFlags(f), f.pythonBin);
  for (const file of plan.files) ship(file.name, file.path);
  const [first, ...more] = plan.steps;
  if (more.length === 0) {
    const { jobconf, ...step } = first!;
    return { ...step, jobconf, env: plan.env };
  }
  return { steps: manifestSteps(plan), jobconf: plan.jobconf, env: plan.env };
}
