/** The job flags shared by `run` and `submit`. */
import { type Command, InvalidArgumentError } from 'commander';
import type { JobFlags } from './job-flags.js';

export function positiveInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1)
      throw new InvalidArgumentError(`${name} must be a whole number >= 1 (got "${v}").`);
    return n;
  };
}

/** Nonnegative whole number (for -R, where 0 means map-only as in Hadoop). */
function nonNegativeInt(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new InvalidArgumentError(`${name} must be a whole number >= 0 (got "${v}"); 0 means map-only.`);
    return n;
  };
}

/** Collect a repeatable option's values. */
const collect = (v: string, prev: string[] | undefined): string[] => [...(prev ?? []), v];

export function addJobOptions(cmd: Command): Command {
  return cmd
    .requiredOption(
      '-i, --input <path|s3://uri>',
      'input: a local file or directory, or S3 objects/prefixes/globs (repeatable; comma lists allowed)',
      collect,
    )
    .requiredOption('-o, --output <path|s3://uri>', 'output: a local directory (downloaded) or an S3 prefix')
    .option('-m, --mapper <cmd|module>', 'mapper: an executable (with arguments) or a .ts/.js module exporting map (required unless --steps or --mrjob)')
    .option(
      '--steps <file.json>',
      'a multi-step job: a JSON list of steps, each {"mapper", "reducer"?, "combiner"?, "numReducers"?, "jobconf"?} (instead of -m/-r/-c)',
    )
    .option('-r, --reducer <cmd|module>', 'reducer (omit for a map-only job)')
    .option('-c, --combiner <cmd|module>', 'combiner, run on map output before the shuffle')
    .option('-R, --num-reducers <n>', 'number of reduce tasks (default 1; 0 = map-only)', nonNegativeInt('--num-reducers'))
    .option('-D, --jobconf <key=value>', 'Hadoop job configuration, e.g. -D stream.num.map.output.key.fields=2 (repeatable)', collect)
    .option('--cmdenv <NAME=VALUE>', 'environment variable for every task, like Hadoop -cmdenv (repeatable)', collect)
    .option('--partitioner <class>', 'KeyFieldBasedPartitioner, HashPartitioner or total-order (TotalOrderPartitioner; Hadoop class or short name)')
    .option('--comparator <class>', 'KeyFieldBasedComparator (Hadoop class or short name)')
    .option('--recursive', 'read input directories recursively (Hadoop skips subdirectories otherwise)')
    .option('--upload-input', 'copy local input into the job bucket even on a local stack (which otherwise reads it in place)')
    .option('--split-size <bytes>', 'bytes per map task (default 64 MiB)', positiveInt('--split-size'))
    .option('--num-mappers <n>', 'number of map tasks (instead of --split-size)', positiveInt('--num-mappers'))
    .option('--file <path...>', 'extra files shipped to every task working directory')
    .option('--overwrite', 'allow an output that already holds objects')
    .option('--name <name>', 'a human-readable job name')
    .option('--max-attempts <n>', 'attempts per task before the job fails (default 4)', positiveInt('--max-attempts'))
    .option(
      '--task-timeout <seconds>',
      'kill a task that makes no progress for this long (default 600)',
      positiveInt('--task-timeout'),
    )
    .option('--json', 'machine-readable progress events and result on stdout')
    .option('--mrjob <job.py>', "an mrjob job: its steps become the job (job arguments after it, or after --)")
    .option('--python-bin <cmd>', "the Python of an mrjob job's tasks, like mrjob's --python-bin (default python3)")
    // An mrjob job's own arguments (e.g. --min-length 3) are operands; prepare() refuses them without --mrjob.
    .allowUnknownOption()
    .allowExcessArguments();
}

/** The flags of `run`/`submit`; `args` are the command's operands (an mrjob job's arguments). */
export function jobFlags(o: Record<string, unknown>, args: readonly string[] = []): JobFlags {
  return {
    input: o.input as string[],
    output: o.output as string,
    mapper: o.mapper as string | undefined,
    steps: o.steps as string | undefined,
    mrjob: o.mrjob as string | undefined,
    jobArgs: args,
    pythonBin: o.pythonBin as string | undefined,
    reducer: o.reducer as string | undefined,
    combiner: o.combiner as string | undefined,
    numReducers: o.numReducers as number | undefined,
    splitSize: o.splitSize as number | undefined,
    numMappers: o.numMappers as number | undefined,
    file: o.file as string[] | undefined,
    overwrite: o.overwrite === true,
    name: o.name as string | undefined,
    maxAttempts: o.maxAttempts as number | undefined,
    taskTimeout: o.taskTimeout as number | undefined,
    jobconf: o.jobconf as string[] | undefined,
    cmdenv: o.cmdenv as string[] | undefined,
    partitioner: o.partitioner as string | undefined,
    comparator: o.comparator as string | undefined,
    recursive: o.recursive === true,
    uploadInput: o.uploadInput === true,
  };
}
