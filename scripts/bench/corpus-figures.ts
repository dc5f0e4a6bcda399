/**
 * The per-corpus figures (results.ts PER_CORPUS_FIGURES) from what one corpus's runs
 * measured, and their details: medians, CPU seconds per MiB by process, peers' times.
 */
import { MIB } from './corpus.js';
import type { PeerName } from './peers.js';
import { median, type PerCorpusFigure, round } from './results.js';
import type { SmallJobTimes } from './small-job.js';
import type { CorpusUserRuns } from './user-figures.js';

/** What the harness measured on one corpus. */
export interface CorpusRuns {
  readonly bytes: number;
  /** Benchmark-stack jobs: seconds and CPU per rep (harness.ts measureJobs). */
  readonly seconds: Record<string, number[]>;
  readonly cpu: Record<string, number[]>;
  readonly small: SmallJobTimes;
  readonly user: CorpusUserRuns;
}

const PEER_FIGURES: Record<PeerName, PerCorpusFigure> = {
  lithops_localhost: 'vs_lithops_localhost',
  pyspark_local2: 'vs_pyspark_local2',
};

/** The per-corpus figures (null for a peer that did not run) and the details behind them. */
export function corpusFigures(r: CorpusRuns) {
  const med = (xs: readonly number[]) => median(xs);
  const mib = r.bytes / MIB;
  const e2eSeconds = r.user.e2e.map((e) => e.seconds);
  const e2eFramework = med(e2eSeconds);
  // cpu_per_mib: the e2e runs' workers + emulator CPU over the single process's on the same files.
  const frameworkCpu = med(r.user.e2e.map((e) => e.cpu.workers + e.cpu.emulator));
  const singleCpu = med(r.user.single_process.map((s) => s.cpuSeconds));
  const figures: Record<PerCorpusFigure, number | null> = {
    speedup_vs_single_process: round(med(r.seconds.single_process!) / med(r.seconds.framework_module!), 2),
    wordcount_e2e: round(med(r.user.single_process.map((s) => s.seconds)) / e2eFramework, 2),
    vs_lithops_localhost: null,
    vs_pyspark_local2: null,
    cpu_per_mib: round(frameworkCpu / singleCpu, 2),
    ratio_vs_unix_pipeline: round(med(r.seconds.unix_pipeline!) / med(r.seconds.framework_shell!), 2),
    small_job_16mib_ratio: round(med(r.small.single_process_s) / med(r.small.framework_s), 2),
  };
  const peers: Partial<Record<PeerName, { seconds: number[]; cpu_s: number[] }>> = {};
  for (const [name, times] of Object.entries(r.user.peers) as Array<[PeerName, Array<{ seconds: number; cpuSeconds: number }>]>) {
    figures[PEER_FIGURES[name]] = round(med(times.map((t) => t.seconds)) / e2eFramework, 2);
    peers[name] = { seconds: times.map((t) => round(t.seconds)), cpu_s: times.map((t) => round(t.cpuSeconds, 2)) };
  }
  const perMib = (xs: readonly number[]) => round(med(xs) / mib, 4);
  return {
    figures,
    details: {
      bytes: r.bytes,
      medians_s: Object.fromEntries(Object.entries(r.seconds).map(([k, v]) => [k, round(med(v))])),
      seconds: r.seconds,
      cpu_s: r.cpu,
      wordcount_e2e: {
        input_files: r.user.input_files,
        single_process_s: r.user.single_process.map((s) => round(s.seconds)),
        framework_s: e2eSeconds.map((s) => round(s)),
        cpu_s: r.user.e2e.map((e) => Object.fromEntries(Object.entries(e.cpu).map(([k, v]) => [k, round(v, 2)]))),
      },
      cpu_s_per_mib: {
        single_process: perMib(r.user.single_process.map((s) => s.cpuSeconds)),
        workers_plus_emulator: perMib(r.user.e2e.map((e) => e.cpu.workers + e.cpu.emulator)),
        workers: perMib(r.user.e2e.map((e) => e.cpu.workers)),
        emulator: perMib(r.user.e2e.map((e) => e.cpu.emulator)),
        stack_process: perMib(r.user.e2e.map((e) => e.cpu.stack)),
        cli: perMib(r.user.e2e.map((e) => e.cpu.cli)),
        // The benchmark stack's module job (input stored before the clock): workers, emulator.
        stored_input_workers: perMib(r.cpu.framework_module!),
        stored_input_emulator: perMib(r.cpu.framework_module_emulator!),
      },
      small_job_16mib: r.small,
      peers,
    },
  };
}

/** The details of one corpus in the result (`details.by_corpus[name]`). */
export type CorpusDetails = ReturnType<typeof corpusFigures>['details'];
