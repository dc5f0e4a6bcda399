/**
 * The environment of a streaming task, as Hadoop Streaming builds it: every jobconf
 * key exported with non-alphanumerics as '_', then the task's own facts under
 * Hadoop's names with Hadoop-format ids, then `--cmdenv` variables. Our own ids stay
 * in `MR_*`, which nothing overrides.
 */
import { envNameOf, type JobConf } from '../core/jobconf-keys.js';
import { fnv1a } from '../core/partition.js';
import { inputUriOf } from '../core/input-uri.js';

/** The facts of one task attempt that its environment shows. */
export interface TaskFacts {
  readonly jobId: string;
  /** ISO time the job was created: the "cluster timestamp" of its Hadoop-format id. */
  readonly createdAt: string;
  readonly kind: 'map' | 'reduce';
  /** Task index (the partition for a reduce task). */
  readonly index: number;
  /** Our attempt number, from 1. Hadoop numbers attempts from 0. */
  readonly attempt: number;
  readonly taskId: string;
  readonly numMaps: number;
  readonly numReduces: number;
  readonly jobconf: JobConf;
  /** `--cmdenv` / manifest `env`. */
  readonly cmdenv: Readonly<Record<string, string>>;
  readonly outputUri: string;
  readonly jobName?: string;
  /** Map tasks: the input object and byte range. */
  readonly split?: { readonly bucket: string; readonly key: string; readonly start: number; readonly end: number };
}

/**
 * Hadoop's job id shape, `job_<timestamp>_<NNNN>`, derived from our job id and its
 * creation time (the same for every task of the job).
 */
function hadoopJobId(jobId: string, createdAt: string): string {
  const ts = Date.parse(createdAt);
  const seq = String(fnv1a(jobId) % 10000).padStart(4, '0');
  return `job_${Number.isFinite(ts) ? ts : 0}_${seq}`;
}

/** `task_<ts>_<NNNN>_m_000003` and `attempt_<ts>_<NNNN>_m_000003_0`. */
export function hadoopTaskIds(f: TaskFacts): { job: string; task: string; attempt: string } {
  const job = hadoopJobId(f.jobId, f.createdAt);
  const body = `${job.slice('job_'.length)}_${f.kind === 'map' ? 'm' : 'r'}_${String(f.index).padStart(6, '0')}`;
  return { job, task: `task_${body}`, attempt: `attempt_${body}_${Math.max(0, f.attempt - 1)}` };
}

/** The variables a task sees (besides PATH, HOME, TMPDIR). */
export function taskEnv(f: TaskFacts): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(f.jobconf)) env[envNameOf(k)] = v;
  const ids = hadoopTaskIds(f);
  const isMap = f.kind === 'map';
  Object.assign(env, {
    mapreduce_job_id: ids.job,
    mapreduce_task_id: ids.task,
    mapreduce_task_attempt_id: ids.attempt,
    mapreduce_task_partition: String(f.index),
    mapreduce_task_ismap: String(isMap),
    mapreduce_job_maps: String(f.numMaps),
    mapreduce_job_reduces: String(f.numReduces),
    mapreduce_output_fileoutputformat_outputdir: f.outputUri,
    // Hadoop points this at the attempt's temporary work directory; ours is the output
    // prefix, since a task's files reach it only through the commit.
    mapreduce_task_output_dir: f.outputUri,
    ...(f.jobName ? { mapreduce_job_name: f.jobName } : {}),
  });
  if (isMap && f.split) {
    const file = inputUriOf(f.split);
    Object.assign(env, {
      mapreduce_map_input_file: file,
      map_input_file: file,
      mapreduce_map_input_start: String(f.split.start),
      mapreduce_map_input_length: String(f.split.end - f.split.start),
    });
  }
  Object.assign(env, f.cmdenv);
  Object.assign(env, {
    MR_JOB_ID: f.jobId,
    MR_TASK_ID: f.taskId,
    MR_ATTEMPT: String(f.attempt),
    MR_NUM_REDUCERS: String(f.numReduces),
    ...(isMap && f.split ? { MR_INPUT_FILE: inputUriOf(f.split) } : {}),
  });
  return env;
}
