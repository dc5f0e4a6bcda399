/**
 * `terasort` (issue 13): TeraGen-style records (scripts/bench/teragen.ts, the printable
 * variant), already in the bucket, sorted by a job with identity mapper and reducer
 * (`cat`), total-order partitioning and R = 4 on a stack of 2 workers with a 64 MiB sort
 * buffer; timed from the manifest upload to `_SUCCESS`, against
 * `LC_ALL=C sort -S 50% --parallel=2` of the same records in the same run.
 *
 * GNU sort runs twice, before and after the job, and the ratio uses the mean of the two: a
 * single run before the job met a different host state than the job whenever the load
 * changed in between (a ratio of 0.28 with GNU sort at load 1.4 and the job at load 7). The
 * CPU-seconds of both sides are reported too (`cpu_ratio_vs_gnu_sort`), which the load does
 * not move much.
 *
 * Why `cat` and not a module: it is the identity of the Hadoop-Streaming jobs users bring,
 * and it keeps the framework's own path (split reading, sort buffer, spills, shuffle,
 * merge, part upload) as the thing measured; a module identity would skip the pipes but
 * also the streaming path most jobs take. The difference is visible in the profile.
 *
 * The output is checked before any figure is used: the parts, in part order, must pass the
 * validator (global order, same record count and CRC-32 sum as the input) and equal GNU
 * sort's output byte for byte (keys are 95^10-way random, so ties, whose order is free, are
 * practically absent; a tie would show up as a byte difference and fail the run, not pass it).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { BenchStack, CALL_WINDOW_TAIL_MS, uploadInParts } from './bench-stack.js';
import { jobCallStats, readCallLog } from './calls.js';
import { measureCalls, teraSortCostPerTb } from './cost.js';
import { MIB } from './corpus.js';
import { pidListeningOn, procMemory, timedWithCpu } from './processes.js';
import { type CpuSample, cpuSample, timelineReport } from './terasort-timeline.js';
import { RECORD_BYTES, teraProblem, validateFiles, writeTeraFile } from './teragen.js';

export const TERASORT_REDUCERS = 4;
export const TERASORT_SORT_BUFFER = 64 * MIB;
/** Split size of the input objects: 16 maps per GiB, at least 4 maps. */
const MAP_BYTES = 64 * MIB;

export interface TeraSortOptions {
  readonly sizeBytes: number;
  readonly seed: number;
  readonly workDir: string;
  readonly endpoint: string;
  readonly startEmulator: boolean;
  readonly workers: number;
  /** When set, workers run with `--cpu-prof` and write their profiles here at exit. */
  readonly profileDir?: string;
  /**
   * More node options for the workers (measurement only, e.g. `--trace-gc`: the workers'
   * stdout goes to the stack's worker-N.log, whose directory is printed).
   */
  readonly workerNodeArgs?: readonly string[];
  /** Print the job's timeline and CPU windows (scripts/bench/terasort-timeline.ts); measurement only. */
  readonly timeline?: boolean;
  readonly log: (message: string) => void;
}

export interface TeraSortResult {
  readonly section: 'terasort';
  readonly generated_at: string;
  readonly input_bytes: number;
  readonly records: number;
  readonly map_tasks: number;
  readonly reduce_tasks: number;
  readonly workers: number;
  readonly sort_buffer_bytes: number;
  readonly framework_s: number;
  /** Mean of the two GNU sort runs (before and after the job); each in `gnu_sort_runs_s`. */
  readonly gnu_sort_s: number;
  readonly gnu_sort_runs_s: readonly number[];
  /** CPU seconds (user + system) of a GNU sort run, mean of the two. */
  readonly gnu_sort_cpu_s: number;
  /** GNU sort CPU-seconds / the workers' CPU-seconds over the job (the emulator excluded: S3 on AWS). */
  readonly cpu_ratio_vs_gnu_sort: number;
  readonly framework_mib_s: number;
  readonly gnu_sort_mib_s: number;
  /** GNU sort time / framework time: ≥ 0.5 first, the aim ≥ 1.0. */
  readonly ratio_vs_gnu_sort: number;
  readonly worker_peak_rss_mib: number;
  readonly intermediate_bytes: number;
  readonly s3_requests: number;
  readonly s3_requests_per_gib: number;
  /** Worker CPU seconds over the job (both workers), and input bytes per worker CPU second. */
  readonly worker_cpu_s: number;
  readonly bytes_per_worker_cpu_s: number;
  /** CPU seconds of the emulator (moto) over the job: where much of the wall time goes locally. */
  readonly emulator_cpu_s: number;
  readonly api_calls_per_map_task: number;
  readonly api_calls_per_reduce_task: number;
  /** Modeled USD per TB sorted on AWS (scripts/bench/cost.ts), next to the CloudSort record. */
  readonly cost_per_tb_usd: number;
  /** The same model fed with input bytes per worker CPU-second instead of per wall-second. */
  readonly cost_per_tb_usd_cpu_bound: number;
  readonly cost: ReturnType<typeof teraSortCostPerTb>;
  readonly checksum: string;
  readonly load_avg_1m_start: number;
  readonly load_avg_1m_end: number;
}

const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

/** The input file for this size and seed (generated once, kept in the work dir). */
function ensureTeraInput(o: TeraSortOptions): { file: string; records: number } {
  const records = Math.max(1, Math.floor(o.sizeBytes / RECORD_BYTES));
  const file = path.join(o.workDir, `teragen-${records}-${o.seed}.txt`);
  if (!existsSync(file) || statSync(file).size !== records * RECORD_BYTES) {
    o.log(`teragen: ${records} records (${((records * RECORD_BYTES) / MIB).toFixed(1)} MiB), seed ${o.seed}`);
    writeTeraFile(file, o.seed, records);
  }
  return { file, records };
}

/** Download the part files under `prefix` in part order into `dir`; returns the local files. */
async function downloadParts(b: BenchStack, prefix: string, dir: string): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const parts = (await b.s.blobs.list(b.bucket, prefix)).filter((x) => /part-\d+$/.test(x.key)).map((x) => x.key).sort();
  const files: string[] = [];
  for (const key of parts) {
    const file = path.join(dir, path.basename(key));
    await pipeline((await b.s.blobs.getObject(b.bucket, key)) as Readable, createWriteStream(file));
    files.push(file);
  }
  return files;
}

/** True when the files concatenated equal `expected` byte for byte (`cmp`, no copy in memory). */
function sameBytes(files: readonly string[], expected: string): boolean {
  const r = spawnSync('sh', ['-c', 'cat "$@" | cmp -s - "$0"', expected, ...files]);
  return r.status === 0;
}

export async function runTeraSort(o: TeraSortOptions): Promise<TeraSortResult> {
  const load0 = os.loadavg()[0]!;
  mkdirSync(o.workDir, { recursive: true });
  const { file, records } = ensureTeraInput(o);
  const bytes = records * RECORD_BYTES;
  const input = validateFiles([file]);
  if (input.malformed || input.records !== records) throw new Error(`teragen wrote a bad input: ${JSON.stringify(input)}`);

  const sorted = path.join(o.workDir, `gnu-sort-${randomBytes(3).toString('hex')}.txt`);
  o.log('terasort: LC_ALL=C sort -S 50% --parallel=2');
  const sortEnv = `LC_ALL=C sort -S 50% --parallel=2 -o '${sorted}' '${file}'`;
  const gnuRuns = [await timedWithCpu('sh', ['-c', sortEnv])];

  const callLog = path.join(o.workDir, `terasort-calls-${randomBytes(3).toString('hex')}.log`);
  const workerEnv: Record<string, string> = { MR_SORT_BUFFER_BYTES: String(TERASORT_SORT_BUFFER), MR_CALL_LOG: callLog };
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  const b = await BenchStack.start(
    o,
    workerEnv,
    [...(o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : []), ...(o.workerNodeArgs ?? [])],
    undefined,
    o.timeline ?? false,
  );
  if (o.workerNodeArgs?.length) o.log(`terasort: workers run with ${o.workerNodeArgs.join(' ')}; their logs in ${b.stateDir}`);
  const samples: CpuSample[] = [];
  const emulatorPid = o.timeline ? pidListeningOn(Number(new URL(o.endpoint).port)) : undefined;
  const outDir = path.join(o.workDir, `terasort-out-${randomBytes(3).toString('hex')}`);
  let peak = 0;
  const sampler = setInterval(() => {
    for (const c of b.stack.workerProcesses) peak = Math.max(peak, (c.pid ? procMemory(c.pid)?.rss : 0) ?? 0);
    if (o.timeline) samples.push(cpuSample(b.stack.workerProcesses.map((c) => c.pid ?? 0).filter((p) => p > 0), emulatorPid));
  }, 100);
  try {
    const parts = Math.max(4, Math.ceil(bytes / MAP_BYTES));
    o.log(`terasort: uploading ${parts} input objects`);
    const splitSize = await uploadInParts(b, 'in/tera/', readFileSync(file), parts);
    o.log('terasort: framework job (cat | total-order sort | cat, R = 4)');
    const run = await b.run(
      {
        input: b.uri('in/tera/'),
        output: b.uri('out/tera/'),
        mapper: 'cat',
        reducer: 'cat',
        numReducers: TERASORT_REDUCERS,
        splitSize,
        jobconf: { 'mapreduce.job.partitioner.class': 'TotalOrderPartitioner' },
      },
      100,
      3_600_000,
      false,
    );
    const hwm = Math.max(0, ...b.stack.workerProcesses.map((c) => (c.pid ? (procMemory(c.pid)?.hwm ?? 0) : 0)));
    const files = await downloadParts(b, 'out/tera/', outDir);
    const problem = teraProblem(input, validateFiles(files));
    if (problem) throw new Error(`terasort output is wrong: ${problem}`);
    if (!sameBytes(files, sorted)) throw new Error('terasort output differs from LC_ALL=C sort of the same records');
    o.log('terasort: LC_ALL=C sort again, after the job');
    gnuRuns.push(await timedWithCpu('sh', ['-c', sortEnv]));
    const gnuSeconds = mean(gnuRuns.map((g) => g.seconds));
    const gnuCpuSeconds = mean(gnuRuns.map((g) => g.cpuSeconds));
    const lines = readCallLog(callLog);
    if (o.timeline) {
      const stackLog = path.join(b.stateDir, 'stack.log');
      const report = timelineReport({
        calls: lines,
        jobId: run.jobId,
        submitMs: run.window[0],
        doneMs: run.window[1] - CALL_WINDOW_TAIL_MS,
        ...(existsSync(stackLog) ? { stackLog: readFileSync(stackLog, 'utf8') } : {}),
        samples,
        cores: os.cpus().length,
      });
      o.log(`terasort timeline (call log ${callLog}):\n${report.join('\n')}`);
    }
    const s3 = lines.filter((c) => c.jobId === run.jobId && c.service === 's3').length;
    const jobShape = { jobId: run.jobId, mapTasks: run.job.numMaps, reduceTasks: run.job.numReduces };
    const stats = jobCallStats(lines, { ...jobShape, mapAttempts: run.mapAttempts }, run.window);
    const costInput = {
      // As in the word-count figure: input bytes per worker per second of wall time.
      bytesPerCoreSecond: bytes / (run.seconds * o.workers),
      calls: measureCalls(lines, { ...jobShape, window: run.window, workers: o.workers }, {
        jobItemBytes: JSON.stringify(run.job).length,
        queryReadUnits: Math.ceil((run.job.numMaps * run.shuffle.taskItemBytes) / 4096),
      }),
      shuffleRatio: run.shuffle.total / bytes,
      taskItemBytes: run.shuffle.taskItemBytes,
    };
    const cost = teraSortCostPerTb(costInput);
    // The same with input bytes per worker CPU-second: what a worker vCPU would sort if the job
    // were bound by the workers' own CPU (optimistic: excludes the `cat` processes and the
    // emulator). On a loaded machine the wall-time figure above is mostly waiting.
    const costCpuBound = teraSortCostPerTb({ ...costInput, bytesPerCoreSecond: bytes / Math.max(1e-9, run.workerCpuSeconds) });
    const r2 = (x: number) => Math.round(x * 100) / 100;
    return {
      section: 'terasort',
      generated_at: new Date().toISOString(),
      input_bytes: bytes,
      records,
      map_tasks: run.job.numMaps,
      reduce_tasks: TERASORT_REDUCERS,
      workers: o.workers,
      sort_buffer_bytes: TERASORT_SORT_BUFFER,
      framework_s: r2(run.seconds),
      gnu_sort_s: r2(gnuSeconds),
      gnu_sort_runs_s: gnuRuns.map((g) => r2(g.seconds)),
      gnu_sort_cpu_s: r2(gnuCpuSeconds),
      cpu_ratio_vs_gnu_sort: Math.round((gnuCpuSeconds / Math.max(1e-9, run.workerCpuSeconds)) * 1000) / 1000,
      framework_mib_s: r2(bytes / MIB / run.seconds),
      gnu_sort_mib_s: r2(bytes / MIB / gnuSeconds),
      ratio_vs_gnu_sort: Math.round((gnuSeconds / run.seconds) * 1000) / 1000,
      worker_peak_rss_mib: r2(Math.max(hwm, peak)),
      intermediate_bytes: run.shuffle.total,
      s3_requests: s3,
      s3_requests_per_gib: r2(s3 / (bytes / (1024 * MIB))),
      worker_cpu_s: r2(run.workerCpuSeconds),
      bytes_per_worker_cpu_s: Math.round(bytes / Math.max(1e-9, run.workerCpuSeconds)),
      emulator_cpu_s: r2(run.emulatorCpuSeconds),
      api_calls_per_map_task: stats.apiCallsPerMapTask,
      api_calls_per_reduce_task: stats.apiCallsPerReduceTask,
      cost_per_tb_usd: cost.totalUsd,
      cost_per_tb_usd_cpu_bound: costCpuBound.totalUsd,
      cost,
      checksum: input.checksum,
      load_avg_1m_start: r2(load0),
      load_avg_1m_end: r2(os.loadavg()[0]!),
    };
  } finally {
    clearInterval(sampler);
    await b.stop();
    rmSync(outDir, { recursive: true, force: true });
    rmSync(sorted, { force: true });
    if (o.profileDir) o.log(`terasort: worker profiles in ${o.profileDir}: ${readdirSync(o.profileDir).join(', ')}`);
  }
}

/** The result as a markdown table. */
export function teraSortTable(r: TeraSortResult): string {
  return [
    `TeraSort ${(r.input_bytes / MIB).toFixed(0)} MiB (${r.records} records), ${r.map_tasks} maps, R = ${r.reduce_tasks}, ` +
      `${r.workers} workers, sort buffer ${r.sort_buffer_bytes / MIB} MiB, load ${r.load_avg_1m_start} → ${r.load_avg_1m_end}`,
    '',
    '| figure | value | target |',
    '|---|---|---|',
    `| framework submit → _SUCCESS | ${r.framework_s} s (${r.framework_mib_s} MiB/s) | |`,
    `| LC_ALL=C sort -S 50% --parallel=2 (mean of ${r.gnu_sort_runs_s.join(' s before, ')} s after the job) | ${r.gnu_sort_s} s (${r.gnu_sort_mib_s} MiB/s), ${r.gnu_sort_cpu_s} CPU-s | |`,
    `| ratio_vs_gnu_sort (GNU time / framework time) | ${r.ratio_vs_gnu_sort} | ≥ 0.5 (aim ≥ 1.0) |`,
    `| cpu_ratio_vs_gnu_sort (GNU CPU-s / worker CPU-s) | ${r.cpu_ratio_vs_gnu_sort} | |`,
    `| worker peak RSS | ${r.worker_peak_rss_mib} MiB | ≤ 300 |`,
    `| intermediate bytes | ${r.intermediate_bytes} (${(r.intermediate_bytes / r.input_bytes).toFixed(3)}× input) | |`,
    `| S3 requests per GiB (workers) | ${r.s3_requests_per_gib} (${r.s3_requests} in all) | |`,
    `| modeled cost on AWS | $${r.cost_per_tb_usd} per TB; $${r.cost_per_tb_usd_cpu_bound} if bound by worker CPU (CloudSort record $${r.cost.cloudsort_record_usd}) | ≤ 1.00 |`,
    `| control-plane calls per map / reduce task | ${r.api_calls_per_map_task} / ${r.api_calls_per_reduce_task} | ≤ 10 |`,
    `| worker CPU | ${r.worker_cpu_s} s (${(r.bytes_per_worker_cpu_s / MIB).toFixed(2)} MiB per CPU-second); emulator CPU ${r.emulator_cpu_s} s | |`,
  ].join('\n');
}
