/**
 * Control-plane call accounting from the workers' call log (MR_CALL_LOG, written by
 * worker/main.ts through SDK middleware): every S3, SQS and DynamoDB request a worker
 * makes, with the job and task it was made for.
 *
 * Counted: everything except the data path, i.e. except ranged GetObjects (input
 * splits and shuffle slices) and PutObjects of intermediate (`tmp/<job>/map/`) and
 * reduce output (`tmp/<job>/out/`) objects. Calls made for a task (claim, commit,
 * job reads, deletes, heartbeats while it runs, shipped-file downloads, log PUTs...)
 * are charged to that task. Calls made while idle (long polls, idle heartbeats) during
 * the job are shared out over all its tasks, by task count.
 */
import { readFileSync } from 'node:fs';

export interface CallLine {
  readonly ts: number;
  readonly pid: number;
  readonly service: string;
  readonly operation: string;
  readonly jobId: string | undefined;
  readonly taskId: string | undefined;
  /** S3: the object key. DynamoDB: the item kinds (`JOB`, `TASK`, `WORKER`, `JOB+TASK`...). */
  readonly key: string | undefined;
  readonly range: string | undefined;
  /** Made by the heartbeat (per worker per interval, not per task). */
  readonly heartbeat: boolean;
}

export function parseCallLog(text: string): CallLine[] {
  const out: CallLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const [ts, pid, service, operation, jobId, taskId, key, range, hb] = line.split(' ');
    if (!ts || !service || !operation) continue;
    const opt = (v: string | undefined) => (v === undefined || v === '-' ? undefined : v);
    out.push({
      ts: Number(ts),
      pid: Number(pid),
      service,
      operation,
      jobId: opt(jobId),
      taskId: opt(taskId),
      key: opt(key),
      range: opt(range),
      heartbeat: hb === 'hb',
    });
  }
  return out;
}

export function readCallLog(file: string): CallLine[] {
  try {
    return parseCallLog(readFileSync(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}

export type CallClass = 'data-get' | 'data-put' | 'control';

export function classify(c: CallLine): CallClass {
  if (c.service !== 's3') return 'control';
  if (c.operation === 'GetObject' && c.range !== undefined) return 'data-get';
  if (c.operation === 'PutObject' && c.key !== undefined && /^tmp\/[^/]+\/(map|out)\//.test(c.key)) return 'data-put';
  return 'control';
}

export interface JobCallStats {
  readonly mapTasks: number;
  readonly reduceTasks: number;
  readonly mapAttempts: number;
  /** Control-plane calls per map / reduce task, idle calls shared out by task count. */
  readonly apiCallsPerMapTask: number;
  readonly apiCallsPerReduceTask: number;
  /** PutObjects under tmp/<job>/map/ per map attempt. */
  readonly s3PutsPerMapAttempt: number;
  /** Per task kind: `service Operation` → calls per task (before sharing out idle calls). */
  readonly mapBreakdown: Record<string, number>;
  readonly reduceBreakdown: Record<string, number>;
  /** Idle calls during the job window: `service Operation` → count. */
  readonly idle: Record<string, number>;
  readonly dataGets: number;
  readonly dataPuts: number;
}

const round = (x: number) => Math.round(x * 100) / 100;

/**
 * Attribute the log's calls for one job. `window` is [submit, done] in epoch ms (idle
 * calls of the workers inside it are shared out); jobs must not overlap in time.
 */
export function jobCallStats(
  lines: readonly CallLine[],
  job: { jobId: string; mapTasks: number; reduceTasks: number; mapAttempts: number },
  window: readonly [number, number],
): JobCallStats {
  const map: Record<string, number> = {};
  const reduce: Record<string, number> = {};
  const idle: Record<string, number> = {};
  let mapCalls = 0;
  let reduceCalls = 0;
  let idleCalls = 0;
  let intermediatePuts = 0;
  let dataGets = 0;
  let dataPuts = 0;
  const bump = (m: Record<string, number>, k: string) => {
    m[k] = (m[k] ?? 0) + 1;
  };
  for (const c of lines) {
    const forJob = c.jobId === job.jobId;
    const idleInWindow = c.jobId === undefined && c.ts >= window[0] && c.ts <= window[1];
    if (!forJob && !idleInWindow) continue;
    const cls = classify(c);
    if (forJob && c.operation === 'PutObject' && c.key?.startsWith(`tmp/${job.jobId}/map/`)) intermediatePuts++;
    if (cls === 'data-get') {
      dataGets++;
      continue;
    }
    if (cls === 'data-put') {
      dataPuts++;
      continue;
    }
    const name = `${c.service} ${c.operation}`;
    if (!forJob) {
      idleCalls++;
      bump(idle, name);
    } else if (c.taskId?.startsWith('m-')) {
      mapCalls++;
      bump(map, name);
    } else if (c.taskId?.startsWith('r-')) {
      reduceCalls++;
      bump(reduce, name);
    } else {
      idleCalls++;
      bump(idle, name);
    }
  }
  const tasks = job.mapTasks + job.reduceTasks;
  const idlePerTask = tasks > 0 ? idleCalls / tasks : 0;
  const perTask = (m: Record<string, number>, n: number) =>
    Object.fromEntries(
      Object.entries(m)
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [k, round(v / Math.max(1, n))]),
    );
  return {
    mapTasks: job.mapTasks,
    reduceTasks: job.reduceTasks,
    mapAttempts: job.mapAttempts,
    apiCallsPerMapTask: job.mapTasks > 0 ? round(mapCalls / job.mapTasks + idlePerTask) : 0,
    apiCallsPerReduceTask: job.reduceTasks > 0 ? round(reduceCalls / job.reduceTasks + idlePerTask) : 0,
    s3PutsPerMapAttempt: job.mapAttempts > 0 ? intermediatePuts / job.mapAttempts : 0,
    mapBreakdown: perTask(map, job.mapTasks),
    reduceBreakdown: perTask(reduce, job.reduceTasks),
    idle,
    dataGets,
    dataPuts,
  };
}
