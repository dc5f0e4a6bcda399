/** A run's result: the figures against their targets, the cost model's estimate, and the details. */
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TIMINGS } from '../../core/config.js';
import type { JobRun } from './bench-stack.js';
import { jobCallStats, type JobCallStats, type readCallLog } from './calls.js';
import { MIB } from './corpus.js';
import { type CostModelInput, costModel, measureCalls } from './cost.js';
import type { CorpusFile } from './corpora.js';
import { corpusFigures } from './corpus-figures.js';
import {
  type BenchOptions,
  type BenchResult,
  type FigureName,
  leastFavourable,
  meets,
  median,
  PER_CORPUS_FIGURES,
  type PerCorpusFigure,
  round,
  TARGETS,
} from './results.js';
import type { SmallJobTimes } from './small-job.js';
import type { UserFigures } from './user-figures.js';

/** The corpus and the code every job of a run uses. */
export interface RunInputs {
  readonly root: string;
  readonly singleJs: string;
  readonly corpus: string;
  readonly corpusBytes: number;
  readonly words: number;
  /** Every corpus of the run; the first is `corpus`. */
  readonly corpora: readonly CorpusFile[];
  readonly bundle: string;
  readonly wcMap: string;
  readonly wcReduce: string;
}

/** What the timed jobs measured (every framework output already checked against its anchor). */
export interface Measured {
  readonly seconds: Record<string, number[]>;
  readonly cpu: Record<string, number[]>;
  readonly outputsMatch: Record<string, boolean>;
  readonly latencies: number[];
  readonly moduleRun: JobRun;
  readonly shellRun: JobRun;
  readonly latencyInputBytes: number;
}

/** The figures, their targets, the cost model's estimate and the details, from what was measured. */
export function summarize(
  o: BenchOptions,
  x: RunInputs,
  m: Measured,
  lines: ReturnType<typeof readCallLog>,
  rss: Record<string, number>,
  at: { load0: number; started: Date },
  all: { measured: Record<string, Measured>; small: Record<string, SmallJobTimes>; user: UserFigures },
): BenchResult {
  const { seconds, moduleRun } = m;
  const { corpusBytes } = x;
  const statsOf = (r: JobRun): JobCallStats =>
    jobCallStats(
      lines,
      { jobId: r.jobId, mapTasks: r.job.numMaps, reduceTasks: r.job.numReduces, mapAttempts: r.mapAttempts },
      r.window,
    );
  const moduleCalls = statsOf(moduleRun);
  const shellCalls = statsOf(m.shellRun);
  const medians = Object.fromEntries(Object.entries(seconds).map(([k, v]) => [k, round(median(v))]));
  const bytesPerCoreSecond = corpusBytes / (median(seconds.framework_module!) * o.workers);
  const costInput: CostModelInput = {
    bytesPerCoreSecond,
    calls: measureCalls(
      lines,
      {
        jobId: moduleRun.jobId,
        mapTasks: moduleRun.job.numMaps,
        reduceTasks: moduleRun.job.numReduces,
        window: moduleRun.window,
        workers: o.workers,
      },
      {
        jobItemBytes: JSON.stringify(moduleRun.job).length,
        queryReadUnits: Math.ceil((moduleRun.job.numMaps * moduleRun.shuffle.taskItemBytes) / 4096),
      },
    ),
    shuffleRatio: moduleRun.shuffle.total / corpusBytes,
    outputRatio: moduleRun.output.length / corpusBytes,
    taskItemBytes: moduleRun.shuffle.taskItemBytes,
  };
  // The stack's defaults (one on-demand worker, the rest on Spot), and all on-demand for comparison.
  const cost = costModel(costInput);
  const costOnDemand = costModel({ ...costInput, useSpot: false });

  const byCorpus = Object.fromEntries(
    x.corpora.map((c) => {
      const mc = all.measured[c.name]!;
      const runs = { bytes: c.bytes, seconds: mc.seconds, cpu: mc.cpu, small: all.small[c.name]!, user: all.user.byCorpus[c.name]! };
      return [c.name, corpusFigures(runs)];
    }),
  );
  const perCorpus = Object.fromEntries(
    PER_CORPUS_FIGURES.map((k) => [k, leastFavourable(k, Object.values(byCorpus).map((c) => c.figures[k]))]),
  ) as Record<PerCorpusFigure, number | null>;
  const figures: Record<FigureName, number | null> = {
    ...perCorpus,
    small_job_latency_ms_median: median(m.latencies),
    api_calls_per_map_task: moduleCalls.apiCallsPerMapTask,
    api_calls_per_reduce_task: moduleCalls.apiCallsPerReduceTask,
    s3_puts_per_map_attempt: moduleCalls.s3PutsPerMapAttempt,
    worker_peak_rss_mib: round(rss.worker_peak_rss_mib!, 1),
    cost_per_tb_usd: round(cost.totalUsd, 3),
  };
  const met = Object.fromEntries(
    Object.entries(figures).map(([k, v]) => [k, meets(k as FigureName, v)]),
  ) as Record<FigureName, boolean | null>;
  const mibS = (s: number[]) => round(corpusBytes / MIB / median(s), 2);
  return {
    schema: 1,
    generated_at: at.started.toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memory_gib: round(os.totalmem() / 1024 ** 3, 1),
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      load_avg_1m_start: round(at.load0, 2),
      load_avg_1m_end: round(os.loadavg()[0]!, 2),
    },
    config: {
      corpus_bytes: corpusBytes,
      corpus_seed: o.seed,
      word_list: path.relative(x.root, o.wordListFile),
      word_list_words: x.words,
      zipf_exponent: 1,
      reps: o.reps,
      workers: o.workers,
      map_tasks: moduleRun.job.numMaps,
      reduce_tasks: moduleRun.job.numReduces,
      latency_jobs: o.latencyJobs,
      latency_input_bytes: m.latencyInputBytes,
      timings: DEFAULT_TIMINGS,
    },
    figures,
    figures_by_corpus: Object.fromEntries(Object.entries(byCorpus).map(([k, v]) => [k, v.figures])),
    targets: TARGETS,
    met,
    corpora: x.corpora.map((c) => ({ name: c.name, bytes: c.bytes, description: c.description })),
    peers: Object.fromEntries(
      Object.entries(all.user.peers).map(([k, p]) => [k, p.available ? { version: p.version } : { skipped: p.reason }]),
    ),
    details: {
      by_corpus: Object.fromEntries(Object.entries(byCorpus).map(([k, v]) => [k, v.details])),
      seconds,
      medians_s: medians,
      outputs_match: m.outputsMatch,
      small_job_latency_ms: m.latencies,
      calls_module_wordcount: moduleCalls,
      calls_shell_wordcount: shellCalls,
      rss,
      throughput: {
        framework_module_mib_s: mibS(seconds.framework_module!),
        framework_module_mib_s_per_worker: round(bytesPerCoreSecond / MIB, 2),
        framework_module_worker_cpu_s: round(median(m.cpu.framework_module!), 2),
        single_process_mib_s: mibS(seconds.single_process!),
        unix_pipeline_mib_s: mibS(seconds.unix_pipeline!),
        framework_shell_mib_s: mibS(seconds.framework_shell!),
      },
      cost,
      cost_on_demand: costOnDemand,
    },
  };
}
