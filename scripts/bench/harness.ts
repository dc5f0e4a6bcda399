/**
 * The benchmark harness: every framework figure is measured in the same run as its
 * anchor, on the same deterministic corpus, and every framework output is checked
 * against its anchor's output before its time is used.
 *
 *  1. speedup_vs_single_process: word count with the TS module (map, combine, reduce)
 *     on a local stack of 2 workers vs. one plain Node process counting into a Map.
 *  2. ratio_vs_unix_pipeline: `cat | wc_map.sh | LC_ALL=C sort | wc_reduce.sh` time over
 *     the framework's time for the same executables.
 *  3. small_job_latency_ms_median: manifest upload → `_SUCCESS`, 1 KiB input, warm stack.
 *  4. control-plane calls per map / reduce task and intermediate PUTs per map attempt,
 *     from the workers' call log (SDK middleware, MR_CALL_LOG).
 *  5. worker_peak_rss_mib: peak RSS of the workers of a job whose single reduce
 *     partition is ≥ 4× the sort buffer.
 *  6. cost_per_tb_usd: scripts/bench/cost.ts fed with the measurements.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { build } from 'esbuild';
import { DEFAULT_TIMINGS, type Timings } from '../../core/config.js';
import { manifestKey } from '../../core/layout.js';
import type { ManifestInput } from '../../core/manifest.js';
import { type JobRecord, newJobId } from '../../core/model.js';
import { LocalStack, packageRoot } from '../../local/stack.js';
import { jobCallStats, type JobCallStats, readCallLog } from './calls.js';
import { ensureCorpus, loadWordList, MIB, prefixForMapOutput, wordCountMapOutputBytes } from './corpus.js';
import { type CostBreakdown, type CostModelInput, costModel, measureCalls } from './cost.js';
import { countWords, formatCounts } from './single-process.js';

export interface BenchOptions {
  /** Corpus size in bytes. */
  readonly sizeBytes: number;
  /** Timed repetitions of each framework/anchor pair (medians are reported). */
  readonly reps: number;
  /** Jobs for the small-job latency median. */
  readonly latencyJobs: number;
  /** Where the corpus, bundles, logs and anchor outputs go. */
  readonly workDir: string;
  readonly endpoint: string;
  readonly startEmulator: boolean;
  readonly seed: number;
  readonly wordListFile: string;
  /** Sort buffer for the memory figure (shrunk for corpora too small to fill 4× of it). */
  readonly rssSortBufferBytes: number;
  readonly workers: number;
  readonly log: (message: string) => void;
}

export const DEFAULTS = {
  sizeBytes: 256 * MIB,
  reps: 3,
  latencyJobs: 10,
  seed: 42,
  rssSortBufferBytes: 16 * MIB,
  workers: 2,
} as const;

export const TARGETS = {
  speedup_vs_single_process: { op: '>=', value: 1.6 },
  ratio_vs_unix_pipeline: { op: '>=', value: 1.0 },
  small_job_latency_ms_median: { op: '<=', value: 1000 },
  api_calls_per_map_task: { op: '<=', value: 10 },
  api_calls_per_reduce_task: { op: '<=', value: 10 },
  s3_puts_per_map_attempt: { op: '==', value: 1 },
  worker_peak_rss_mib: { op: '<=', value: 300 },
  cost_per_tb_usd: { op: '<=', value: 0.5 },
} as const;

export type FigureName = keyof typeof TARGETS;

/** The machine a run measured on (its load at the start and the end says how noisy the run was). */
export interface BenchMachine {
  readonly cpu: string;
  readonly cores: number;
  readonly memory_gib: number;
  readonly os: string;
  readonly node: string;
  readonly load_avg_1m_start: number;
  readonly load_avg_1m_end: number;
}

/** What a run measured: corpus, repetitions, workers, the job's shape and timings. */
export interface BenchConfig {
  readonly corpus_bytes: number;
  readonly corpus_seed: number;
  readonly word_list: string;
  readonly word_list_words: number;
  readonly zipf_exponent: number;
  readonly reps: number;
  readonly workers: number;
  readonly map_tasks: number;
  readonly reduce_tasks: number;
  readonly latency_jobs: number;
  readonly latency_input_bytes: number;
  readonly timings: Timings;
}

export interface BenchResult {
  readonly schema: 1;
  readonly generated_at: string;
  readonly machine: BenchMachine;
  readonly config: BenchConfig;
  readonly figures: Record<FigureName, number>;
  readonly targets: typeof TARGETS;
  readonly met: Record<FigureName, boolean>;
  readonly details: {
    readonly seconds: Record<string, number[]>;
    readonly medians_s: Record<string, number>;
    readonly outputs_match: Record<string, boolean>;
    readonly small_job_latency_ms: number[];
    readonly calls_module_wordcount: JobCallStats;
    readonly calls_shell_wordcount: JobCallStats;
    readonly rss: Record<string, number>;
    readonly throughput: Record<string, number>;
    /** The stack's default placement (on-demand floor, Spot above it), and all on-demand. */
    readonly cost: CostBreakdown;
    readonly cost_on_demand: CostBreakdown;
  };
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export function meets(name: FigureName, value: number): boolean {
  const t = TARGETS[name];
  if (!Number.isFinite(value)) return false;
  return t.op === '>=' ? value >= t.value : t.op === '<=' ? value <= t.value : value === t.value;
}

/** Word counts (`word\tcount` lines) as a Map; throws on a malformed or repeated line. */
export function parseCounts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tab = line.lastIndexOf('\t');
    const word = line.slice(0, tab);
    const n = Number(line.slice(tab + 1));
    if (tab < 0 || !Number.isInteger(n)) throw new Error(`malformed word count line ${JSON.stringify(line)}`);
    if (m.has(word)) throw new Error(`word ${JSON.stringify(word)} appears twice in the output`);
    m.set(word, n);
  }
  return m;
}

/** undefined when equal, else a description of the first difference. */
export function diffCounts(expected: string, actual: string): string | undefined {
  const e = parseCounts(expected);
  const a = parseCounts(actual);
  for (const [w, n] of e) if (a.get(w) !== n) return `"${w}": expected ${n}, got ${a.get(w)}`;
  for (const [w, n] of a) if (!e.has(w)) return `"${w}": not expected, got ${n}`;
  return undefined;
}

/** Run a command, resolving with its wall time in seconds; rejects on a non-zero exit. */
function timed(cmd: string, args: string[], opts: { cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const s = (performance.now() - t0) / 1000;
      if (code === 0) resolve(s);
      else reject(new Error(`${cmd} ${args.join(' ')} exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** Peak and current RSS (MiB) of a process, from /proc; undefined when it is gone or not Linux. */
export function procMemory(pid: number): { hwm: number; rss: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 'NaN');
    return { hwm: kb('VmHWM') / 1024, rss: kb('VmRSS') / 1024 };
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used, from /proc. */
function procCpuSeconds(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return 0;
  }
}

interface JobRun {
  readonly jobId: string;
  readonly seconds: number;
  readonly window: [number, number];
  readonly output: string;
  readonly job: JobRecord;
  readonly workerCpuSeconds: number;
  /** Claims of map tasks (attempts), and the committed map output (shuffle) bytes. */
  readonly mapAttempts: number;
  readonly shuffle: { total: number; maxPartition: number; taskItemBytes: number };
}

/** A local stack plus the few things the harness does with it. */
class BenchStack {
  private constructor(
    readonly stack: LocalStack,
    readonly stateDir: string,
  ) {}

  static async start(o: BenchOptions, workerEnv: Record<string, string>): Promise<BenchStack> {
    const stateDir = path.join(o.workDir, `stack-${randomBytes(4).toString('hex')}`);
    const stack = await LocalStack.start({
      endpoint: o.endpoint,
      prefix: `bench-${randomBytes(4).toString('hex')}`,
      workers: o.workers,
      // The defaults of `mapreduce local up`: 2 s heartbeats, 20 s long polls, 3 s checker.
      timings: DEFAULT_TIMINGS,
      stateDir,
      workerEnv,
      startEmulator: o.startEmulator,
    });
    return new BenchStack(stack, stateDir);
  }

  get s() {
    return this.stack.services;
  }

  get bucket(): string {
    return this.stack.names.bucket;
  }

  uri(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  workerCpuSeconds(): number {
    return this.stack.workerProcesses.reduce((n, c) => n + (c.pid ? procCpuSeconds(c.pid) : 0), 0);
  }

  /** Submit a manifest and wait for `_SUCCESS` under its output; returns the run and the part files' text. */
  async run(manifest: ManifestInput, pollMs: number, timeoutMs = 3_600_000): Promise<JobRun> {
    const jobId = newJobId();
    const out = manifest.output.replace(/^s3:\/\/[^/]+\//, '');
    const prefix = out.endsWith('/') ? out : `${out}/`;
    const cpu0 = this.workerCpuSeconds();
    const t0 = performance.now();
    const w0 = Date.now();
    await this.s.blobs.putBytes(this.bucket, manifestKey(jobId), JSON.stringify(manifest));
    for (let i = 1; ; i++) {
      if (await this.s.blobs.head(this.bucket, `${prefix}_SUCCESS`)) break;
      if (i % 20 === 0) {
        const job = await this.s.jobs.get(jobId);
        if (job && (job.status === 'FAILED' || job.status === 'CANCELLED')) {
          throw new Error(`benchmark job ${jobId} ${job.status}: ${job.reason ?? ''}\n${this.workerLogTail()}`);
        }
      }
      if (performance.now() - t0 > timeoutMs) throw new Error(`benchmark job ${jobId} did not finish in time`);
      await new Promise((r) => setTimeout(r, pollMs));
    }
    const seconds = (performance.now() - t0) / 1000;
    const w1 = Date.now();
    const workerCpuSeconds = this.workerCpuSeconds() - cpu0;
    // The job record turns SUCCEEDED right after _SUCCESS is written.
    let job: JobRecord | undefined;
    for (let i = 0; i < 200; i++) {
      job = await this.s.jobs.get(jobId);
      if (job?.status === 'SUCCEEDED') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (job?.status !== 'SUCCEEDED') throw new Error(`benchmark job ${jobId} wrote _SUCCESS but is ${job?.status}`);
    const parts = (await this.s.blobs.list(this.bucket, prefix)).filter((o) => /part-\d+$/.test(o.key));
    let output = '';
    for (const p of parts) output += await this.s.blobs.getText(this.bucket, p.key);
    return {
      jobId,
      seconds,
      window: [w0, w1 + 2000],
      output,
      job,
      workerCpuSeconds,
      mapAttempts: await this.mapAttempts(jobId),
      shuffle: await this.shuffleBytes(jobId),
    };
  }

  /** Number of map attempts of a job (each claim increments a task's attempt). */
  async mapAttempts(jobId: string): Promise<number> {
    const maps = await this.s.tasks.list(jobId, 'map');
    return maps.reduce((n, t) => n + t.attempt, 0);
  }

  /** Bytes of the committed map output objects (the shuffle). */
  async shuffleBytes(jobId: string): Promise<{ total: number; maxPartition: number; taskItemBytes: number }> {
    const maps = await this.s.tasks.list(jobId, 'map');
    let total = 0;
    const perPartition: number[] = [];
    for (const t of maps) {
      const off = t.output?.offsets ?? [0];
      total += off[off.length - 1]!;
      for (let r = 0; r + 1 < off.length; r++) perPartition[r] = (perPartition[r] ?? 0) + off[r + 1]! - off[r]!;
    }
    const taskItemBytes = Math.max(...maps.map((t) => JSON.stringify(t).length));
    return { total, maxPartition: Math.max(0, ...perPartition), taskItemBytes };
  }

  workerLogTail(): string {
    const tails: string[] = [];
    for (let i = 0; i < this.stack.workerProcesses.length; i++) {
      try {
        tails.push(readFileSync(path.join(this.stateDir, `worker-${i}.log`), 'utf8').split('\n').slice(-15).join('\n'));
      } catch {}
    }
    return tails.join('\n');
  }

  /** Stop the stack and delete everything the benchmark put in its bucket (frees the emulator's memory). */
  async stop(): Promise<void> {
    await this.stack.stop().catch(() => {});
    const { createClients, destroyClients } = await import('../../aws/clients.js');
    const c = createClients({ endpoint: this.stack.options.endpoint, region: 'us-east-1' });
    try {
      for (;;) {
        const listed = await c.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, MaxKeys: 1000 }));
        const keys = (listed.Contents ?? []).map((o) => ({ Key: o.Key! }));
        if (keys.length === 0) break;
        await c.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
      }
    } catch {
    } finally {
      destroyClients(c);
    }
  }
}

export async function runBenchmark(o: BenchOptions): Promise<BenchResult> {
  const log = o.log;
  const root = packageRoot();
  const singleJs = path.join(root, 'dist', 'scripts', 'bench', 'single-process.js');
  if (!existsSync(singleJs)) throw new Error(`${singleJs} is missing: run \`npm run build\` first`);
  mkdirSync(o.workDir, { recursive: true });
  const load0 = os.loadavg();
  const started = new Date();

  log(`corpus: ${o.sizeBytes} bytes, seed ${o.seed}, words from ${path.relative(root, o.wordListFile)}`);
  const words = loadWordList(o.wordListFile);
  const corpus = ensureCorpus(o.workDir, {
    bytes: o.sizeBytes,
    words,
    seed: o.seed,
    wordListName: path.basename(o.wordListFile),
  });
  const corpusBytes = readFileSync(corpus).length;

  const bundle = path.join(o.workDir, 'wordcount.mjs');
  await build({
    entryPoints: [path.join(root, 'examples', 'wordcount', 'wordcount.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile: bundle,
    logLevel: 'silent',
  });
  const wcMap = path.join(root, 'examples', 'wordcount', 'wc_map.sh');
  const wcReduce = path.join(root, 'examples', 'wordcount', 'wc_reduce.sh');

  const callLog = path.join(o.workDir, `calls-${randomBytes(4).toString('hex')}.log`);
  log(`starting a local stack with ${o.workers} workers on ${o.endpoint}`);
  const b = await BenchStack.start(o, { MR_CALL_LOG: callLog });
  const seconds: Record<string, number[]> = { single_process: [], framework_module: [], unix_pipeline: [], framework_shell: [] };
  const cpu: Record<string, number[]> = { framework_module: [] };
  const outputsMatch: Record<string, boolean> = {};
  const latencies: number[] = [];
  let moduleRun: JobRun | undefined;
  let shellRun: JobRun | undefined;
  let latencyInputBytes: number | undefined;
  try {
    // ≥ 4 map tasks per worker pair (8 for two workers), 2 reducers; the corpus is stored as
    // that many objects (cut at line ends) like a real input directory, one split each.
    const numMaps = Math.max(4, 4 * o.workers);
    const splitSize = await uploadInParts(b, 'in/corpus/', readFileSync(corpus), numMaps);
    const files = [
      await putCode(b, bundle, 'code/wordcount.mjs'),
      await putCode(b, wcMap, 'code/wc_map.sh'),
      await putCode(b, wcReduce, 'code/wc_reduce.sh'),
    ];
    const mod = { module: 'wordcount.mjs' };
    const base = { input: b.uri('in/corpus/'), files, numReducers: 2, splitSize };

    // The small input of the latency jobs, and a warm-up job (loads the module, JIT).
    const small = readFileSync(corpus).subarray(0, 1024);
    const smallInput = small.subarray(0, small.lastIndexOf(0x0a) + 1);
    await b.s.blobs.putBytes(b.bucket, 'in/small/small.txt', smallInput);
    latencyInputBytes = smallInput.length;
    const smallManifest = (i: number): ManifestInput => ({
      input: b.uri('in/small/'),
      output: b.uri(`out/latency-${i}/`),
      mapper: mod,
      combiner: mod,
      reducer: mod,
      files: [files[0]!],
      numReducers: 1,
    });
    log('warm-up job');
    await b.run(smallManifest(-1), 20);

    const anchorOut = path.join(o.workDir, 'single-process.out');
    const pipelineOut = path.join(o.workDir, 'unix-pipeline.out');
    for (let rep = 0; rep < o.reps; rep++) {
      log(`rep ${rep + 1}/${o.reps}: single process`);
      seconds.single_process!.push(await timed(process.execPath, [singleJs, corpus, anchorOut]));
      log(`rep ${rep + 1}/${o.reps}: framework, TS module word count`);
      const m = await b.run(
        { ...base, output: b.uri(`out/module-${rep}/`), mapper: mod, combiner: mod, reducer: mod },
        100,
      );
      seconds.framework_module!.push(m.seconds);
      cpu.framework_module!.push(m.workerCpuSeconds);
      const d1 = diffCounts(readFileSync(anchorOut, 'latin1'), m.output);
      outputsMatch.module_vs_single_process = (outputsMatch.module_vs_single_process ?? true) && d1 === undefined;
      if (d1) throw new Error(`framework module word count differs from the single-process anchor: ${d1}`);
      moduleRun = m;

      log(`rep ${rep + 1}/${o.reps}: unix pipeline`);
      seconds.unix_pipeline!.push(
        await timed('sh', [
          '-c',
          `cat ${shQuote(corpus)} | ${shQuote(wcMap)} | LC_ALL=C sort | ${shQuote(wcReduce)} > ${shQuote(pipelineOut)}`,
        ]),
      );
      log(`rep ${rep + 1}/${o.reps}: framework, shell word count`);
      const sh = await b.run(
        { ...base, output: b.uri(`out/shell-${rep}/`), mapper: 'wc_map.sh', reducer: 'wc_reduce.sh' },
        100,
      );
      seconds.framework_shell!.push(sh.seconds);
      const d2 = diffCounts(readFileSync(pipelineOut, 'latin1'), sh.output);
      outputsMatch.shell_vs_unix_pipeline = (outputsMatch.shell_vs_unix_pipeline ?? true) && d2 === undefined;
      if (d2) throw new Error(`framework shell word count differs from the unix pipeline: ${d2}`);
      shellRun = sh;
    }

    log(`small-job latency: ${o.latencyJobs} jobs of ${smallInput.length} bytes`);
    const smallExpected = formatCounts(countInText(smallInput.toString('latin1')));
    for (let i = 0; i < o.latencyJobs; i++) {
      const r = await b.run(smallManifest(i), 10);
      const d = diffCounts(smallExpected, r.output);
      if (d) throw new Error(`small job output differs: ${d}`);
      latencies.push(Math.round(r.seconds * 1000));
    }
  } catch (err) {
    log(b.workerLogTail());
    throw err;
  } finally {
    await b.stop();
  }

  const lines = readCallLog(callLog);
  const statsOf = (r: JobRun): JobCallStats =>
    jobCallStats(
      lines,
      { jobId: r.jobId, mapTasks: r.job.numMaps, reduceTasks: r.job.numReduces, mapAttempts: r.mapAttempts },
      r.window,
    );
  const moduleCalls = statsOf(moduleRun!);
  const shellCalls = statsOf(shellRun!);

  log('memory: a job whose single reduce partition is ≥ 4× the sort buffer');
  const rss = await measureRss(o, corpus, bundle);

  const medians = Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, round(median(v))]));
  const bytesPerCoreSecond = corpusBytes / (median(seconds.framework_module!) * o.workers);
  const costInput: CostModelInput = {
    bytesPerCoreSecond,
    calls: measureCalls(
      lines,
      {
        jobId: moduleRun!.jobId,
        mapTasks: moduleRun!.job.numMaps,
        reduceTasks: moduleRun!.job.numReduces,
        window: moduleRun!.window,
        workers: o.workers,
      },
      {
        jobItemBytes: JSON.stringify(moduleRun!.job).length,
        queryReadUnits: Math.ceil((moduleRun!.job.numMaps * moduleRun!.shuffle.taskItemBytes) / 4096),
      },
    ),
    shuffleRatio: moduleRun!.shuffle.total / corpusBytes,
    outputRatio: moduleRun!.output.length / corpusBytes,
    taskItemBytes: moduleRun!.shuffle.taskItemBytes,
  };
  // The stack's defaults (one on-demand worker, the rest on Spot), and all on-demand for comparison.
  const cost = costModel(costInput);
  const costOnDemand = costModel({ ...costInput, useSpot: false });

  const figures: Record<FigureName, number> = {
    speedup_vs_single_process: round(median(seconds.single_process!) / median(seconds.framework_module!), 2),
    ratio_vs_unix_pipeline: round(median(seconds.unix_pipeline!) / median(seconds.framework_shell!), 2),
    small_job_latency_ms_median: median(latencies),
    api_calls_per_map_task: moduleCalls.apiCallsPerMapTask,
    api_calls_per_reduce_task: moduleCalls.apiCallsPerReduceTask,
    s3_puts_per_map_attempt: moduleCalls.s3PutsPerMapAttempt,
    worker_peak_rss_mib: round(rss.worker_peak_rss_mib!, 1),
    cost_per_tb_usd: round(cost.totalUsd, 3),
  };
  const met = Object.fromEntries(
    Object.entries(figures).map(([k, v]) => [k, meets(k as FigureName, v)]),
  ) as Record<FigureName, boolean>;
  return {
    schema: 1,
    generated_at: started.toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memory_gib: round(os.totalmem() / 1024 ** 3, 1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      load_avg_1m_start: round(load0[0]!, 2),
      load_avg_1m_end: round(os.loadavg()[0]!, 2),
    },
    config: {
      corpus_bytes: corpusBytes,
      corpus_seed: o.seed,
      word_list: path.relative(root, o.wordListFile),
      word_list_words: words.length,
      zipf_exponent: 1,
      reps: o.reps,
      workers: o.workers,
      map_tasks: moduleRun!.job.numMaps,
      reduce_tasks: moduleRun!.job.numReduces,
      latency_jobs: o.latencyJobs,
      latency_input_bytes: latencyInputBytes ?? 0,
      timings: DEFAULT_TIMINGS,
    },
    figures,
    targets: TARGETS,
    met,
    details: {
      seconds,
      medians_s: medians,
      outputs_match: outputsMatch,
      small_job_latency_ms: latencies,
      calls_module_wordcount: moduleCalls,
      calls_shell_wordcount: shellCalls,
      rss,
      throughput: {
        framework_module_mib_s: round(corpusBytes / MIB / median(seconds.framework_module!), 2),
        framework_module_mib_s_per_worker: round(bytesPerCoreSecond / MIB, 2),
        framework_module_worker_cpu_s: round(median(cpu.framework_module!), 2),
        single_process_mib_s: round(corpusBytes / MIB / median(seconds.single_process!), 2),
        unix_pipeline_mib_s: round(corpusBytes / MIB / median(seconds.unix_pipeline!), 2),
        framework_shell_mib_s: round(corpusBytes / MIB / median(seconds.framework_shell!), 2),
      },
      cost,
      cost_on_demand: costOnDemand,
    },
  };
}

/**
 * Store `data` as `parts` objects under `prefix`, cut after a '\n' near each equal share,
 * with Buffer bodies (sent in one piece, not as a chunked stream). Returns the largest
 * object's size: as a split size it makes each object exactly one split.
 */
async function uploadInParts(b: BenchStack, prefix: string, data: Buffer, parts: number): Promise<number> {
  let start = 0;
  let largest = 1;
  for (let i = 0; i < parts && start < data.length; i++) {
    let end = i === parts - 1 ? data.length : Math.ceil(((i + 1) * data.length) / parts);
    if (end < data.length) {
      const nl = data.indexOf(0x0a, Math.max(start, end - 1));
      end = nl < 0 ? data.length : nl + 1;
    }
    await b.s.blobs.putBytes(b.bucket, `${prefix}part-${String(i).padStart(3, '0')}.txt`, data.subarray(start, end));
    largest = Math.max(largest, end - start);
    start = end;
  }
  return largest;
}

async function putCode(b: BenchStack, local: string, key: string): Promise<string> {
  await b.s.blobs.putFile(b.bucket, key, local);
  return b.uri(key);
}

/** Word counts of a text with the module's rule (split on /\s+/, empty words dropped). */
function countInText(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of text.split(/\s+/)) if (w !== '') counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}

/**
 * Peak RSS of the workers over a job whose one reduce partition is at least 4× the sort
 * buffer: TS module mapper and reducer, no combiner (every `word\t1` line is shuffled),
 * one reducer, MR_SORT_BUFFER_BYTES set on the workers. Runs on a fresh stack so VmHWM
 * covers only this job.
 */
async function measureRss(o: BenchOptions, corpus: string, bundle: string): Promise<Record<string, number>> {
  const data = readFileSync(corpus);
  const fullMapOutput = wordCountMapOutputBytes(data);
  // 4.25× leaves a margin over 4× for the estimate.
  const sortBuffer = Math.max(16 * 1024, Math.min(o.rssSortBufferBytes, Math.floor(fullMapOutput / 4.25 / 1024) * 1024));
  const prefix = data.subarray(0, prefixForMapOutput(data, Math.ceil(4.25 * sortBuffer)));
  const inputFile = path.join(o.workDir, 'rss-input.txt');
  writeFileSync(inputFile, prefix);
  const b = await BenchStack.start(o, { MR_SORT_BUFFER_BYTES: String(sortBuffer) });
  let peakRss = 0;
  const sampler = setInterval(() => {
    for (const c of b.stack.workerProcesses) {
      const m = c.pid ? procMemory(c.pid) : undefined;
      if (m) peakRss = Math.max(peakRss, m.rss);
    }
  }, 100);
  try {
    const splitSize = await uploadInParts(b, 'in/rss/', prefix, 4);
    const code = await putCode(b, bundle, 'code/wordcount.mjs');
    const mod = { module: 'wordcount.mjs' };
    const r = await b.run(
      {
        input: b.uri('in/rss/'),
        output: b.uri('out/rss/'),
        mapper: mod,
        reducer: mod,
        files: [code],
        numReducers: 1,
        splitSize,
      },
      100,
    );
    const hwm = Math.max(
      0,
      ...b.stack.workerProcesses.map((c) => (c.pid ? (procMemory(c.pid)?.hwm ?? 0) : 0)),
    );
    const d = diffCounts(formatCounts(await countWords(inputFile)), r.output);
    if (d) throw new Error(`memory job output differs from the single-process count: ${d}`);
    if (r.shuffle.maxPartition < 4 * sortBuffer) {
      throw new Error(`memory job: reduce partition ${r.shuffle.maxPartition} B is not 4× the sort buffer ${sortBuffer} B`);
    }
    return {
      worker_peak_rss_mib: Math.max(hwm, peakRss),
      worker_vmhwm_mib: Math.round(hwm * 10) / 10,
      worker_sampled_peak_rss_mib: Math.round(peakRss * 10) / 10,
      sort_buffer_bytes: sortBuffer,
      reduce_partition_bytes: r.shuffle.maxPartition,
      partition_over_buffer: Math.round((r.shuffle.maxPartition / sortBuffer) * 100) / 100,
      input_bytes: prefix.length,
      seconds: Math.round(r.seconds * 100) / 100,
    };
  } finally {
    clearInterval(sampler);
    await b.stop();
    rmSync(inputFile, { force: true });
  }
}
