/**
 * What a benchmark run reports: its options and defaults, the targets each figure is held
 * to, the result's shape, and the pure helpers that compute and check figures (medians,
 * rounding, word-count comparison).
 */
import type { Timings } from '../../core/config.js';
import type { JobCallStats } from './calls.js';
import { MIB } from './corpus.js';
import type { CostBreakdown } from './cost.js';
import type { SyntheticSpec } from './synthetic-corpus.js';

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
  /** Corpora the speed figures run on, the first also for the other figures (default: english, synthetic). */
  readonly corpora?: readonly CorpusKind[];
  /** The synthetic corpus's shape (default DEFAULT_SYNTHETIC). */
  readonly synthetic?: SyntheticSpec;
  /** Run the optional peer anchors (Lithops, PySpark) when installed (default true). */
  readonly peers?: boolean;
}

/** `english`: Zipf over bench/wordlist.txt (corpus.ts); `synthetic`: synthetic-corpus.ts. */
export type CorpusKind = 'english' | 'synthetic';

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
  wordcount_e2e: { op: '>=', value: 1.6 },
  vs_lithops_localhost: { op: '>=', value: 1.0 },
  vs_pyspark_local2: { op: '>=', value: 4.0 },
  cpu_per_mib: { op: '<=', value: 1.15 },
  ratio_vs_unix_pipeline: { op: '>=', value: 1.5 },
  small_job_16mib_ratio: { op: '>=', value: 1.0 },
  small_job_latency_ms_median: { op: '<=', value: 1000 },
  api_calls_per_map_task: { op: '<=', value: 10 },
  api_calls_per_reduce_task: { op: '<=', value: 10 },
  s3_puts_per_map_attempt: { op: '==', value: 1 },
  worker_peak_rss_mib: { op: '<=', value: 300 },
  cost_per_tb_usd: { op: '<=', value: 0.5 },
} as const;

export type FigureName = keyof typeof TARGETS;

/**
 * Figures taken on every corpus of the run (issue 14: "each on both corpora"). The
 * headline value is the least favourable corpus's; `figures_by_corpus` has each.
 */
export const PER_CORPUS_FIGURES = [
  'speedup_vs_single_process',
  'wordcount_e2e',
  'vs_lithops_localhost',
  'vs_pyspark_local2',
  'cpu_per_mib',
  'ratio_vs_unix_pipeline',
  'small_job_16mib_ratio',
] as const satisfies readonly FigureName[];
export type PerCorpusFigure = (typeof PER_CORPUS_FIGURES)[number];

/** Figures of optional anchors: null (and `met` null) when the anchor is not installed. */
export const OPTIONAL_FIGURES: readonly FigureName[] = ['vs_lithops_localhost', 'vs_pyspark_local2'];

/** The least favourable of a figure's per-corpus values; null if any is null (not measured). */
export function leastFavourable(name: FigureName, values: readonly (number | null)[]): number | null {
  if (values.length === 0 || values.some((v) => v === null)) return null;
  const xs = values as number[];
  return TARGETS[name].op === '<=' ? Math.max(...xs) : Math.min(...xs);
}

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
  /** null: an optional anchor was not installed (see `peers`). */
  readonly figures: Record<FigureName, number | null>;
  readonly figures_by_corpus: Record<string, Record<PerCorpusFigure, number | null>>;
  readonly targets: typeof TARGETS;
  /** null: not measured. */
  readonly met: Record<FigureName, boolean | null>;
  /** The corpora, first the one the other figures use. */
  readonly corpora: CorpusInfo[];
  /** Peer anchors: version, or why skipped. */
  readonly peers: Record<string, { version?: string; skipped?: string }>;
  readonly details: {
    /** Per corpus: medians, CPU breakdowns and every repetition of the per-corpus figures. */
    readonly by_corpus: Record<string, unknown>;
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

/** A corpus of the run. */
export interface CorpusInfo {
  readonly name: string;
  readonly bytes: number;
  readonly description: string;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  if (n === 0) return Number.NaN;
  return n % 2 === 1 ? s[(n - 1) / 2]! : (s[n / 2 - 1]! + s[n / 2]!) / 2;
};
export const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

export function meets(name: FigureName, value: number | null): boolean | null {
  const t = TARGETS[name];
  if (value === null) return null;
  if (!Number.isFinite(value)) return false;
  return t.op === '>=' ? value >= t.value : t.op === '<=' ? value <= t.value : value === t.value;
}

/** Word counts (`word\tcount` lines) as a Map; throws on a malformed or repeated line. */
function parseCounts(text: string): Map<string, number> {
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

/** Word counts of a text with the module's rule (split on /\s+/, empty words dropped). */
export function countInText(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const w of text.split(/\s+/)) if (w !== '') counts.set(w, (counts.get(w) ?? 0) + 1);
  return counts;
}
