/**
 * `scale_curve`: the same small job split into M = 16, 256, 2048 map tasks (one input
 * object of M lines, `numMappers: M`), R = 4, on a fresh local stack per M. Each line holds
 * one key of each reduce partition (`SCALE_LINE_KEYS`), so every map writes to every reducer
 * and each reducer fetches M slices, as in a sort or a word count: with one key per line (until
 * session 19) an M = 16 reducer fetched only 4 slices, fewer than the fetch's concurrency (8),
 * and its open files compared 4 GETs in flight against 8 at M = 2048.
 * For each M: control-plane calls per task (workers' call log plus the in-process
 * coordinator and checker, counted by SDK middleware), coordinator planning time
 * (job createdAt → startedAt), checker sweep time (real sweeps during the map phase),
 * and the reducers' peak RSS and open files, sockets among them (workers sampled while
 * the job is in its reduce phase; the RSS also at the phase's start, what the map phase
 * left, and its growth during the phase, what the reduces added). The output is checked against `sort | uniq -c` before any figure is used.
 * The per-task figures must stay flat as M grows.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { DEFAULT_TIMINGS } from '../../core/config.js';
import { manifestKey } from '../../core/layout.js';
import { partitionOf } from '../../core/partition.js';
import { type JobRecord, newJobId } from '../../core/model.js';
import { sweep } from '../../services/checker.js';
import { createServices, type Services } from '../../services/context.js';
import { LocalStack } from '../../local/stack.js';
import { jobCallStats, readCallLog } from './calls.js';
import { procCpuSeconds } from './processes.js';
import { reduceRssSummary, ResourceSampler, windowSummary } from './reducer-samples.js';
import { claimedTasks, type ReduceDescriptors, reduceDescriptorLines, type ReduceMemory, reduceMemoryLines, workerLog } from './worker-log-lines.js';

export const SCALE_DEFAULT_MS = [16, 256, 2048] as const;
const R = 4;

const KEYS_BY_PARTITION: readonly string[][] = (() => {
  const by: string[][] = Array.from({ length: R }, () => []);
  for (let k = 0; k < 97; k++) {
    const key = `k${String(k).padStart(3, '0')}`;
    by[partitionOf(key, R)]!.push(key);
  }
  return by;
})();
/**
 * The job's input line `i`: one key of each of the R partitions (keys k000..k096, grouped by
 * `partitionOf`), separated by spaces; the mapper (`tr ' ' '\n'`) emits one record per key.
 */
export function scaleLine(i: number): string {
  return `${KEYS_BY_PARTITION.map((keys) => keys[i % keys.length]!).join(' ')}\n`;
}
/** The mapper: one output line (a key, no value) per word of the input line. */
const SCALE_MAPPER = "tr ' ' '\\n'";

export interface ScalePoint {
  readonly mapTasks: number;
  readonly seconds: number;
  readonly planning_ms: number;
  readonly checker_sweep_ms_median: number;
  readonly checker_sweeps: number;
  readonly api_calls_per_map_task: number;
  readonly api_calls_per_reduce_task: number;
  /** Worker and in-process (coordinator, checker) control-plane calls over all tasks. */
  readonly api_calls_per_task_all: number;
  readonly in_process_calls: Record<string, number>;
  /** Worker calls per task by `service Operation`, before idle calls are shared out. */
  readonly map_breakdown: Record<string, number>;
  readonly reduce_breakdown: Record<string, number>;
  readonly idle_calls: Record<string, number>;
  /** The highest RSS of a process that claimed a reduce task, sampled in the reduce window. */
  readonly reducer_peak_rss_mib: number;
  /**
   * The highest RSS of any worker process in the reduce window, reducer or not: with a
   * recycle before the reduce (core/worker-recycle.ts) the aged process that gave the reduce
   * back is sampled here in its last milliseconds.
   */
  readonly worker_peak_rss_in_reduce_window_mib: number;
  /** The highest RSS of any worker process over the whole job, the map phase included. */
  readonly worker_peak_rss_mib: number;
  /**
   * The most RSS a worker had at its first sample in REDUCE: what it brings from the map
   * phase (V8's old space with the maps' garbage, JIT code, malloc arenas), before any reduce work.
   */
  readonly reducer_rss_at_reduce_start_mib: number;
  /** The most a worker's RSS grew over the reduce phase (its peak minus its first sample there). */
  readonly reducer_rss_growth_in_reduce_mib: number;
  /**
   * Each worker process sampled in REDUCE: its first and highest RSS there, and the map tasks
   * it had claimed (from its log: how much history the process doing the reduce carried).
   */
  readonly reducer_rss_by_worker: readonly { first_mib: number; peak_mib: number; map_tasks_run: number; reduce_tasks_run: number }[];
  /**
   * Each reduce attempt's process memory by part at its start and end (the workers' debug
   * line, core/worker-heap.ts `memoryBreakdown`): V8's young generation, old and code space,
   * external and native memory, so a difference between M = 16 and 2048 can be named.
   */
  readonly reducer_memory: readonly ReduceMemory[];
  readonly reducer_peak_open_files: number;
  /** Of those, sockets (HTTP connections, in flight or kept alive for the next request). */
  readonly reducer_peak_open_sockets: number;
  /**
   * The reduce attempts' own peak of open descriptors (worker/descriptor-peak.ts: /proc/self/fd
   * read at each slice GET's response and each merge's opened inputs, where the sampler's 10 ms
   * can miss a short peak), the highest over the attempts, and the sockets at that moment.
   */
  readonly reducer_self_peak_open_files: number;
  readonly reducer_self_peak_open_sockets: number;
  /** Each reduce attempt's own peak, as logged. */
  readonly reducer_descriptors: readonly ReduceDescriptors[];
  /** The job's reduce merge counters (REDUCE_INTERMEDIATE_MERGES, REDUCE_MEMORY_MERGES, REDUCE_MERGE_MAX_OPEN_FILES: summed over reducers). */
  readonly reduce_merge_counters: Record<string, number>;
  readonly load_avg_1m: number;
  /** Workers that exited to be recycled during the run (core/worker-recycle.ts), each replaced by a new pid. */
  readonly worker_recycles: number;
  /** Worker processes the run started (2 + recycles). */
  readonly worker_processes: number;
  /**
   * CPU seconds of all worker processes over the run, their mappers and reducers included
   * (each pid's last sample, every 100 ms: a process's last < 100 ms are missed).
   */
  readonly worker_cpu_seconds: number;
}

export interface ScaleOptions {
  readonly endpoint: string;
  readonly workDir: string;
  readonly workers: number;
  readonly mapTasks: readonly number[];
  readonly log: (message: string) => void;
}

/** Count every request the in-process clients send, by `service Operation`. */
function countCalls(c: AwsClients, into: Record<string, number>): void {
  for (const [service, client] of [
    ['dynamodb', c.ddb],
    ['sqs', c.sqs],
    ['s3', c.s3],
  ] as const) {
    // The three clients' stacks differ only in their input/output types (as in aws/clients.ts).
    (client.middlewareStack as AwsClients['s3']['middlewareStack']).add(
      (next, context) => async (args) => {
        const name = `${service} ${context.commandName?.replace(/Command$/, '')}`;
        into[name] = (into[name] ?? 0) + 1;
        return next(args);
      },
      { step: 'initialize', name: `scaleCurveCount-${service}` },
    );
  }
}

const median = (xs: number[]) => (xs.length ? [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]! : 0);
const round = (x: number) => Math.round(x * 100) / 100;

async function runPoint(o: ScaleOptions, m: number): Promise<ScalePoint> {
  const stateDir = path.join(o.workDir, `scale-${m}-${randomBytes(3).toString('hex')}`);
  mkdirSync(stateDir, { recursive: true });
  const callLog = path.join(stateDir, 'calls.log');
  const stack = await LocalStack.start({
    endpoint: o.endpoint,
    prefix: `scale-${randomBytes(4).toString('hex')}`,
    workers: o.workers,
    timings: DEFAULT_TIMINGS,
    stateDir,
    // Debug level for the reduce attempts' memory lines (`reducer_memory`); the workers log nothing else at it.
    workerEnv: { MR_CALL_LOG: callLog, MR_LOG_LEVEL: 'DEBUG' },
  });
  const inProcess: Record<string, number> = {};
  countCalls(stack.services.clients, inProcess);
  // The harness's own reads (polling, sweeps it times) go through clients that are not counted.
  const own = createClients({ endpoint: o.endpoint, region: 'us-east-1' });
  const s: Services = createServices(own, stack.names, DEFAULT_TIMINGS);
  // A sweep as the checker runs it, minus the guard (the stack's own checker holds it).
  const unguarded: Services = { ...s, workers: Object.assign(Object.create(s.workers) as Services['workers'], { acquireGuard: async () => true }) };
  // Every process the stack started, replacements of recycled workers included (new pids).
  const sampler = new ResourceSampler(() => stack.liveWorkers().flatMap((c) => (c.pid ? [c.pid] : [])));
  try {
    const lines = Array.from({ length: m }, (_, i) => scaleLine(i));
    const body = lines.join('');
    await s.blobs.putBytes(stack.names.bucket, 'in/data.txt', body);
    const jobId = newJobId();
    const output = `s3://${stack.names.bucket}/out/`;
    const t0 = Date.now();
    await s.blobs.putBytes(
      stack.names.bucket,
      manifestKey(jobId),
      JSON.stringify({ input: `s3://${stack.names.bucket}/in/data.txt`, output, mapper: SCALE_MAPPER, reducer: 'uniq -c', numReducers: R, numMappers: m }),
    );
    const sweeps: number[] = [];
    let lastSweep = 0;
    const cpuByPid = new Map<number, number>();
    for (;;) {
      for (const c of stack.liveWorkers()) {
        if (c.pid) cpuByPid.set(c.pid, Math.max(cpuByPid.get(c.pid) ?? 0, procCpuSeconds(c.pid, { children: true })));
      }
      const job = await s.jobs.get(jobId);
      if (job?.status === 'SUCCEEDED') break;
      if (job && (job.status === 'FAILED' || job.status === 'CANCELLED')) throw new Error(`scale job ${jobId} ${job.status}: ${job.reason}`);
      if (Date.now() - t0 > 3_600_000) throw new Error(`scale job ${jobId} did not finish in an hour`);
      if (job?.phase === 'MAP' && job.status === 'RUNNING' && Date.now() - lastSweep > 2000) {
        lastSweep = Date.now();
        const t = performance.now();
        await sweep(unguarded, `bench-${randomBytes(3).toString('hex')}`);
        sweeps.push(performance.now() - t);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    const w1 = Date.now();
    sampler.stop();
    const job = (await s.jobs.get(jobId))!;
    // The reduce window: from the reduce tasks' messages (no reduce runs before) to the job's end.
    // A process read while it exits can give no RSS figure (NaN): such samples are dropped.
    const samples = sampler.samples.filter((x) => Number.isFinite(x.rssMiB));
    const window = [Date.parse(job.reduceEnqueuedAt ?? job.finishedAt!), Date.parse(job.finishedAt!)] as const;
    const claims = new Map(stack.workerProcesses.flatMap((c, n) => (c.pid ? [[c.pid, claimedTasks(stateDir, n)] as const] : [])));
    // The reducers: each process that claimed a reduce, from that claim on (not one that gave
    // its reduce back to be replaced, nor a replacement's start-up: node opens ~20 more files
    // while it loads its modules).
    const inReduce = windowSummary(samples.filter((x) => x.at >= (claims.get(x.pid)?.firstReduceAt ?? Infinity)), ...window);
    const anyWorker = windowSummary(samples, ...window);
    if (inReduce.samples === 0) throw new Error(`scale job at M=${m}: no worker sample in its reduce window`);
    const rssSplit = reduceRssSummary(inReduce.byPid);
    const seconds = (Date.parse(job.finishedAt!) - Date.parse(job.createdAt)) / 1000;
    // Check the output before using any figure.
    let got = '';
    for (let r = 0; r < R; r++) got += await s.blobs.getText(stack.names.bucket, `out/part-${String(r).padStart(5, '0')}`);
    const want = spawnSync('sh', ['-c', `${SCALE_MAPPER} | LC_ALL=C sort | uniq -c`], { input: body }).stdout.toString();
    const sorted = (x: string) => x.split('\n').filter(Boolean).sort().join('\n');
    if (sorted(got) !== sorted(want)) throw new Error(`scale job at M=${m}: output differs from sort | uniq -c`);
    if (job.numMaps !== m) throw new Error(`scale job planned ${job.numMaps} map tasks, not ${m}`);
    const descriptors = stack.workerProcesses.flatMap((_, n) => reduceDescriptorLines(workerLog(stateDir, n)));
    const selfPeak = descriptors.reduce<ReduceDescriptors | undefined>((a, d) => (a === undefined || d.openFiles > a.openFiles ? d : a), undefined);
    const stats = jobCallStats(readCallLog(callLog), { jobId, mapTasks: m, reduceTasks: R, mapAttempts: m }, [t0, w1]);
    const workerControl = stats.apiCallsPerMapTask * m + stats.apiCallsPerReduceTask * R;
    const inProcessTotal = Object.values(inProcess).reduce((a, b) => a + b, 0);
    return {
      mapTasks: m,
      seconds,
      planning_ms: Date.parse((job as JobRecord & { startedAt?: string }).startedAt ?? '') - Date.parse(job.createdAt),
      checker_sweep_ms_median: round(median(sweeps)),
      checker_sweeps: sweeps.length,
      api_calls_per_map_task: stats.apiCallsPerMapTask,
      api_calls_per_reduce_task: stats.apiCallsPerReduceTask,
      api_calls_per_task_all: round((workerControl + inProcessTotal) / (m + R)),
      in_process_calls: inProcess,
      map_breakdown: stats.mapBreakdown,
      reduce_breakdown: stats.reduceBreakdown,
      idle_calls: stats.idle,
      reducer_peak_rss_mib: round(inReduce.peakRssMiB),
      worker_peak_rss_in_reduce_window_mib: round(anyWorker.peakRssMiB),
      worker_peak_rss_mib: round(samples.reduce((a, x) => Math.max(a, x.rssMiB), 0)),
      reducer_rss_at_reduce_start_mib: round(rssSplit.atStart),
      reducer_rss_growth_in_reduce_mib: round(rssSplit.growth),
      reducer_rss_by_worker: [...inReduce.byPid.entries()].map(([pid, w]) => ({
        first_mib: round(w.first),
        peak_mib: round(w.peak),
        map_tasks_run: claims.get(pid)?.maps ?? -1,
        reduce_tasks_run: claims.get(pid)?.reduces ?? -1,
      })),
      reducer_memory: stack.workerProcesses.flatMap((_, n) => reduceMemoryLines(workerLog(stateDir, n))),
      reducer_peak_open_files: inReduce.peakOpenFiles,
      reducer_peak_open_sockets: inReduce.peakSockets,
      reducer_self_peak_open_files: selfPeak?.openFiles ?? -1,
      reducer_self_peak_open_sockets: selfPeak?.sockets ?? -1,
      reducer_descriptors: descriptors,
      reduce_merge_counters: Object.fromEntries(Object.entries(job.counters).filter(([k]) => /MERGE/.test(k))),
      load_avg_1m: round(os.loadavg()[0]!),
      worker_recycles: stack.recycledWorkers,
      worker_processes: stack.workerProcesses.length,
      worker_cpu_seconds: round([...cpuByPid.values()].reduce((a, b) => a + b, 0)),
    };
  } finally {
    sampler.stop();
    destroyClients(own);
    await stack.stop();
  }
}

/** Run the curve; one fresh stack per M. */
export async function runScaleCurve(o: ScaleOptions): Promise<ScalePoint[]> {
  const points: ScalePoint[] = [];
  for (const m of o.mapTasks) {
    o.log(`scale_curve: M = ${m}`);
    const p = await runPoint(o, m);
    o.log(`scale_curve: M = ${m}: ${JSON.stringify(p)}`);
    points.push(p);
  }
  return points;
}

/** The curve as a markdown table. */
export function scaleTable(points: readonly ScalePoint[]): string {
  return [
    '| M | submit→SUCCEEDED s | planning ms | checker sweep ms (median) | calls / map task | calls / reduce task | calls / task (all) | reducer peak RSS MiB (at REDUCE start, growth in it) | reducer peak open files (sockets): sampled, own | worker recycles | load 1m |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
    ...points.map(
      (p) =>
        `| ${p.mapTasks} | ${p.seconds} | ${p.planning_ms} | ${p.checker_sweep_ms_median} (${p.checker_sweeps}) | ${p.api_calls_per_map_task} | ${p.api_calls_per_reduce_task} | ${p.api_calls_per_task_all} | ${p.reducer_peak_rss_mib} (${p.reducer_rss_at_reduce_start_mib}, +${p.reducer_rss_growth_in_reduce_mib}) | ${p.reducer_peak_open_files} (${p.reducer_peak_open_sockets}), ${p.reducer_self_peak_open_files} (${p.reducer_self_peak_open_sockets}) | ${p.worker_recycles} | ${p.load_avg_1m} |`,
    ),
  ].join('\n');
}
