/**
 * mrjob jobs as Hadoop Streaming steps: the pure half of `--mrjob job.py`.
 *
 * The CLI asks the job what its own launcher would hand a runner (cli/mrjob.ts); this
 * module turns that description into one streaming step per mrjob step, built the way
 * mrjob's Hadoop runner builds its `hadoop jar … -mapper … -reducer …` arguments
 * (mrjob/bin.py `_substep_args`/`_render_substep`, mrjob/runner.py `_jobconf_for_step`):
 *
 *   script substep   → `<python> job.py --step-num=N --mapper <passthrough args>`
 *   + pre_filter     → `/bin/sh -ex -c '<pre_filter> | <python> job.py --step-num=N --mapper …'`
 *   command substep  → the command as given (`mapper_cmd`), never wrapped in a shell
 *   no mapper        → `cat` (a step with only a reducer)
 *   no reducer       → a map-only step
 *   SORT_VALUES      → stream.num.map.output.key.fields=2, keypartitioner -k1,1, KeyFieldBasedPartitioner
 *
 * Job configuration, later wins (mrjob's order): SORT_VALUES keys < the job's JOBCONF and
 * its own `--jobconf` arguments < our `-D` flags < the step's `jobconf`. A null value
 * blanks a key, as mrjob's combine_jobconfs does; a step's null blanks a job-wide key for
 * that step only (manifestSteps writes it as the step's null, core/job-settings.ts).
 */
import path from 'node:path';
import { z } from 'zod';
import { joinCommandLine, splitCommandLine } from './argv.js';
import { UsageError } from './errors.js';
import { JobConfKeys } from './jobconf-keys.js';
import { stepOverlay } from './job-settings.js';

const Words = z.union([z.string(), z.array(z.string())]).nullable();

/** One mapper/combiner/reducer of a step description (mrjob/step.py `MRStep.description`). */
const SubstepSchema = z.object({
  type: z.string(),
  command: z.union([z.string(), z.array(z.string())]).optional(),
  pre_filter: z.string().optional(),
});

/** One step as mrjob describes it to its runners. */
const StepSchema = z.object({
  type: z.string(),
  mapper: SubstepSchema.optional(),
  combiner: SubstepSchema.optional(),
  reducer: SubstepSchema.optional(),
  jobconf: z.record(z.string(), z.string().nullable()).optional(),
  /** Set by `mapper_raw`: the mapper reads a manifest of input files. */
  input_manifest: z.boolean().optional(),
});

/**
 * What an mrjob job tells its runner (the runner keyword arguments of mrjob's own
 * launcher, `MRJob._runner_kwargs()`), reduced to what shapes the streaming steps.
 */
export const MrjobDescriptionSchema = z.object({
  /** The job script as the job names it (relative to where it was described). */
  script: z.string(),
  steps: z.array(StepSchema),
  sortValues: z.boolean(),
  /** JOBCONF / jobconf() merged with the job's `--jobconf` arguments; values in Java form, null blanks. */
  jobconf: z.record(z.string(), z.string().nullable()),
  partitioner: z.string().nullable(),
  /** FILES / files() and `--files`: `path` or `path#name`. */
  files: z.array(z.string()),
  dirs: z.array(z.string()),
  archives: z.array(z.string()),
  /** Passthrough arguments for every task; a file argument (`add_file_arg`) is shipped and renamed. */
  extraArgs: z.array(z.union([z.string(), z.object({ path: z.string(), name: z.string().nullable() })])),
  cmdenv: z.record(z.string(), z.string()),
  /** `task_python_bin`, else `python_bin`. */
  pythonBin: Words,
  shBin: Words,
  setup: z.array(z.string()),
  libjars: z.array(z.string()),
  hadoopInputFormat: z.string().nullable(),
  hadoopOutputFormat: z.string().nullable(),
  inputPaths: z.array(z.string()),
});

export type MrjobStep = z.output<typeof StepSchema>;
export type MrjobDescription = z.output<typeof MrjobDescriptionSchema>;

/** A file the job ships: a local path and its name in the task's working directory. */
export interface MrjobFile {
  readonly path: string;
  readonly name: string;
}

/** One streaming step to run: command lines (manifest `Step` strings) and its configuration. */
export interface MrjobStreamingStep {
  readonly mapper: string;
  readonly combiner?: string;
  readonly reducer?: string;
  readonly jobconf: Record<string, string>;
}

export interface MrjobPlan {
  readonly steps: readonly MrjobStreamingStep[];
  /** The configuration every step shares (each step's `jobconf` is this plus the step's own). */
  readonly jobconf: Record<string, string>;
  /** Every file to ship: the script first, then FILES/--files, then file arguments. */
  readonly files: readonly MrjobFile[];
  /** The job's `cmdenv` (our `--cmdenv` is applied over it by the caller). */
  readonly env: Readonly<Record<string, string>>;
}

/** The keys mrjob's runner adds for SORT_VALUES (mrjob/runner.py `_SORT_VALUES_JOBCONF`). */
export const SORT_VALUES_JOBCONF: Readonly<Record<string, string>> = {
  [JobConfKeys.MAP_OUTPUT_KEY_FIELDS]: '2',
  [JobConfKeys.PARTITIONER_OPTIONS]: '-k1,1',
};
/** The partitioner mrjob's runner passes for SORT_VALUES (`_SORT_VALUES_PARTITIONER`). */
export const SORT_VALUES_PARTITIONER = 'org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner';
/** mrjob's default `sh_bin`, used to run a `*_pre_filter` pipeline. */
export const DEFAULT_SH_BIN: readonly string[] = ['/bin/sh', '-ex'];
export const DEFAULT_PYTHON_BIN = 'python3';

type Role = 'mapper' | 'combiner' | 'reducer';

/** Why a step type cannot run here (docs/hadoop-streaming.md, "mrjob"). */
const UNSUPPORTED_STEP_TYPES: Readonly<Record<string, string>> = {
  jar: 'a jar step runs a Java class, and the workers have no JVM',
  spark: 'a Spark step needs a Spark cluster; the workers run streaming tasks only',
  spark_jar: 'a Spark step needs a Spark cluster; the workers run streaming tasks only',
  spark_script: 'a Spark step needs a Spark cluster; the workers run streaming tasks only',
};

/** `path#name` (mrjob's hash path) → the file and its working-directory name. */
export function parseHashPath(spec: string): MrjobFile {
  const hash = spec.indexOf('#');
  const file = hash < 0 ? spec : spec.slice(0, hash);
  const name = hash < 0 ? path.basename(file) : spec.slice(hash + 1);
  if (file === '' || name === '' || name.includes('/')) {
    throw new UsageError(`Bad mrjob file "${spec}": give path or path#name, the name without "/".`);
  }
  return { path: file, name };
}

function words(value: string | readonly string[] | null, fallback: readonly string[]): string[] {
  if (value === null || value.length === 0) return [...fallback];
  return typeof value === 'string' ? splitCommandLine(value) : [...value];
}

/** Refuse what the workers cannot do, each with the reason, before anything is built. */
function checkSupported(d: MrjobDescription): void {
  const refuse = (what: string, why: string) => {
    throw new UsageError(`mrjob job ${d.script}: ${what} is not supported: ${why} (docs/hadoop-streaming.md, "mrjob").`);
  };
  if (d.steps.length === 0) refuse('a job without steps', 'steps() returned no step');
  d.steps.forEach((step, n) => {
    const reason = UNSUPPORTED_STEP_TYPES[step.type];
    if (reason) refuse(`step ${n} (type "${step.type}")`, reason);
    if (step.type !== 'streaming') refuse(`step ${n} (type "${step.type}")`, 'only streaming steps can run');
    if (step.input_manifest) refuse(`step ${n}'s mapper_raw`, 'mapper_raw needs an input manifest of whole files; use mapper');
  });
  if (d.setup.length > 0) refuse('setup', 'setup commands need mrjob\'s wrapper script; ship files with FILES and set variables with --cmdenv');
  if (d.libjars.length > 0) refuse('LIBJARS', 'the workers have no JVM');
  if (d.hadoopInputFormat) refuse(`HADOOP_INPUT_FORMAT ${d.hadoopInputFormat}`, 'input is read as text lines (TextInputFormat); a Java input format needs a JVM');
  if (d.hadoopOutputFormat) refuse(`HADOOP_OUTPUT_FORMAT ${d.hadoopOutputFormat}`, 'output is written as text lines (TextOutputFormat); a Java output format needs a JVM');
  if (d.dirs.length > 0) refuse('DIRS', 'directories are shipped as archives, and archives are not supported; list the files in FILES');
  if (d.archives.length > 0) refuse('ARCHIVES', 'archives are not supported; ship unpacked files with FILES');
  if (d.inputPaths.length > 0) {
    throw new UsageError(
      `mrjob job arguments name input files (${d.inputPaths.join(', ')}): give the input with -i, and only options after the job.`,
    );
  }
}

/** The job configuration of a step (`undefined`: what all steps share), later layers winning; null blanks a key. */
function stepJobConf(d: MrjobDescription, step: MrjobStep | undefined, cliConf: Readonly<Record<string, string>>): Record<string, string> {
  const layers: Readonly<Record<string, string | null>>[] = [
    d.sortValues ? { ...SORT_VALUES_JOBCONF, [JobConfKeys.PARTITIONER_CLASS]: SORT_VALUES_PARTITIONER } : {},
    d.jobconf,
    d.partitioner ? { [JobConfKeys.PARTITIONER_CLASS]: d.partitioner } : {},
    cliConf,
    step?.jobconf ?? {},
  ];
  const merged: Record<string, string | null> = {};
  for (const layer of layers) Object.assign(merged, layer);
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== null));
}

/**
 * Build the streaming steps of an mrjob job.
 *
 * @param cliConf our `-D`/`--partitioner`/… flags as a job configuration.
 * @param pythonBin our `--python-bin`; else the job's `python_bin`; else `python3`.
 * @throws UsageError for a step type, option or file the workers cannot run, with the reason.
 */
export function planMrjob(
  d: MrjobDescription,
  cliConf: Readonly<Record<string, string>> = {},
  pythonBin?: string,
): MrjobPlan {
  checkSupported(d);
  const script: MrjobFile = { path: d.script, name: path.basename(d.script) };
  const argFiles: MrjobFile[] = [];
  const extraArgs = d.extraArgs.map((a) => {
    if (typeof a === 'string') return a;
    const file = { path: a.path, name: a.name ?? path.basename(a.path) };
    argFiles.push(file);
    return file.name;
  });
  const python = pythonBin !== undefined ? splitCommandLine(pythonBin) : words(d.pythonBin, [DEFAULT_PYTHON_BIN]);
  const sh = words(d.shBin, DEFAULT_SH_BIN);

  const render = (step: MrjobStep, n: number, role: Role): string | undefined => {
    const sub = step[role];
    if (sub === undefined) return role === 'mapper' ? 'cat' : undefined;
    if (sub.type === 'command') {
      const cmd = sub.command ?? '';
      // Like mrjob: split as a shell would, never wrapped in a shell.
      return joinCommandLine(typeof cmd === 'string' ? splitCommandLine(cmd) : cmd);
    }
    if (sub.type !== 'script') {
      throw new UsageError(`mrjob job ${d.script}: step ${n}'s ${role} has type "${sub.type}"; expected script or command.`);
    }
    const argv = [...python, script.name, `--step-num=${n}`, `--${role}`, ...extraArgs];
    if (sub.pre_filter === undefined) return joinCommandLine(argv);
    // The pre-filter is shell text by mrjob's definition: mrjob's runner runs it with sh_bin -c.
    return joinCommandLine([...sh, '-c', `${sub.pre_filter} | ${joinCommandLine(argv)}`]);
  };

  const steps = d.steps.map((step, n): MrjobStreamingStep => {
    const reducer = render(step, n, 'reducer');
    const combiner = reducer === undefined ? undefined : render(step, n, 'combiner');
    return {
      mapper: render(step, n, 'mapper')!,
      ...(combiner !== undefined ? { combiner } : {}),
      ...(reducer !== undefined ? { reducer } : {}),
      jobconf: stepJobConf(d, step, cliConf),
    };
  });
  return {
    steps,
    jobconf: stepJobConf(d, undefined, cliConf),
    files: [script, ...d.files.map(parseHashPath), ...argFiles],
    env: { ...d.cmdenv },
  };
}

/**
 * The plan's steps as a multi-step manifest's `steps`, each with the jobconf that gives
 * it its own configuration under the shared `plan.jobconf`: its keys, and null for a
 * shared key the step blanked (mrjob: a step's `jobconf` value None).
 */
export function manifestSteps(plan: MrjobPlan): (Omit<MrjobStreamingStep, 'jobconf'> & { jobconf: Record<string, string | null> })[] {
  return plan.steps.map((step) => ({ ...step, jobconf: stepOverlay(plan.jobconf, step.jobconf) }));
}
