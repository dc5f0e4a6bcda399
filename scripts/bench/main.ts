/**
 * `npm run bench [-- options]`: run the benchmark, write bench/results/latest.json,
 * print a markdown table.
 *
 *   --size 256M | small | tiny | <bytes>[K|M|G]   corpus size (default 256M; small = 16M, tiny = 256K)
 *   --reps N              timed repetitions per figure (default 3; medians are reported)
 *   --latency-jobs N      small jobs for the latency median (default 10)
 *   --out FILE            result JSON (default bench/results/latest.json)
 *   --work-dir DIR        corpus, bundles, logs (default <tmp>/mapreduce-bench)
 *   --words FILE          word list (default bench/wordlist.txt)
 *   --seed N              corpus seed (default 42)
 *   --corpus english|synthetic|both   corpora of the speed figures (default both; the first also for the others)
 *   --synthetic SPEC      the synthetic corpus: vocab=N,words=N,utf8|ascii,zipf=S (default vocab=1M,words=200,ascii,zipf=1)
 *   --no-peers            skip the optional Lithops and PySpark anchors even when installed
 *   --endpoint URL        emulator (default AWS_ENDPOINT_URL or http://127.0.0.1:4566; started if down)
 *   --scale [M,M,...]     run only the scale_curve section (scripts/bench/scale-curve.ts) at these map-task
 *                         counts (default 16,256,2048); result in bench/results/scale.json unless --out
 *   --terasort            run only the terasort section (scripts/bench/terasort.ts) on --size records
 *                         (default 1G); result in bench/results/terasort.json unless --out
 *   --timeline            with --terasort: print the job's timeline and CPU windows (terasort-timeline.ts)
 *   --profile DIR         with --terasort: the workers write V8 CPU profiles (--cpu-prof) into DIR
 *   --worker-node-args=A  with --terasort: more node options for the workers, e.g. --worker-node-args=--trace-gc
 *                         (measurement only; their output is in the worker logs, whose directory is printed)
 *   --hot-key             run only the hot_key figure (scripts/bench/hot-key.ts): a module reduce over
 *                         one key with --values values (default 20000000); bench/results/hot-key.json
 *   --straggler           run only the straggler_slowdown section (scripts/bench/straggler.ts), --reps times
 *                         (default 1); result in bench/results/straggler.json unless --out
 *   --map-seconds S       a clean map task's length in the straggler section (default 2.5)
 *   --keep-logs           with --straggler: also log the stack's checker and coordinator to
 *                         stack.log in the stack's dir next to the worker logs, and print the dir
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageRoot } from '../../local/stack.js';
import { runBenchmark } from './harness.js';
import { type BenchResult, DEFAULTS, type FigureName, TARGETS } from './results.js';
import { MIB } from './corpus.js';
import { runScaleSection } from './scale-main.js';
import { runHotKeySection, runTeraSortSection } from './terasort-main.js';
import { runStragglerOnly } from './straggler.js';
import { parseCorpusOption } from './corpora.js';
import type { CorpusDetails } from './corpus-figures.js';
import { parseSyntheticSpec } from './synthetic-corpus.js';

const NAMED_SIZES: Record<string, number> = { tiny: 256 * 1024, small: 16 * MIB, default: 256 * MIB };

export function parseSize(s: string): number {
  if (NAMED_SIZES[s] !== undefined) return NAMED_SIZES[s]!;
  const m = /^(\d+(?:\.\d+)?)([KMG]i?B?)?$/i.exec(s.trim());
  if (!m) throw new Error(`--size: expected tiny, small, or a size like 256M, got "${s}"`);
  const unit = (m[2] ?? '').toUpperCase()[0];
  const mult = unit === 'K' ? 1024 : unit === 'M' ? MIB : unit === 'G' ? 1024 * MIB : 1;
  return Math.round(Number(m[1]) * mult);
}

const UNITS: Record<FigureName, string> = {
  speedup_vs_single_process: '×',
  wordcount_e2e: '×',
  vs_lithops_localhost: '×',
  vs_pyspark_local2: '×',
  cpu_per_mib: '×',
  small_job_16mib_ratio: '×',
  ratio_vs_unix_pipeline: '×',
  small_job_latency_ms_median: 'ms',
  api_calls_per_map_task: 'calls',
  api_calls_per_reduce_task: 'calls',
  s3_puts_per_map_attempt: 'PUTs',
  worker_peak_rss_mib: 'MiB',
  cost_per_tb_usd: 'USD',
  straggler_slowdown: '×',
};

/** The results as a markdown table (one row per figure, one column per corpus), plus the anchors' medians. */
export function markdownTable(r: BenchResult): string {
  const d = r.details;
  const c0 = d.by_corpus[r.corpora[0]!.name] as CorpusDetails;
  const e2e = c0.wordcount_e2e;
  const peer = (name: 'lithops_localhost' | 'pyspark_local2') => {
    const p = r.peers[name];
    return p?.version ? `${name} ${p.version}: ${c0.peers[name]?.seconds.join(', ')} s` : `skipped: ${p?.skipped ?? 'not run'}`;
  };
  const anchor: Record<FigureName, string> = {
    speedup_vs_single_process: `single process ${d.medians_s.single_process} s / framework ${d.medians_s.framework_module} s`,
    wordcount_e2e: `single process on the ${e2e.input_files} input files ${e2e.single_process_s.join(', ')} s / \`mapreduce run\` ${e2e.framework_s.join(', ')} s`,
    vs_lithops_localhost: peer('lithops_localhost'),
    vs_pyspark_local2: peer('pyspark_local2'),
    cpu_per_mib: `CPU s/MiB: workers ${c0.cpu_s_per_mib.workers} + emulator ${c0.cpu_s_per_mib.emulator} vs single process ${c0.cpu_s_per_mib.single_process}`,
    small_job_16mib_ratio: `${(c0.small_job_16mib.bytes / MIB).toFixed(1)} MiB, ${c0.small_job_16mib.map_tasks} map tasks: single process ${c0.small_job_16mib.single_process_s.map((x) => x.toFixed(2)).join(', ')} s / framework ${c0.small_job_16mib.framework_s.map((x) => x.toFixed(2)).join(', ')} s`,
    ratio_vs_unix_pipeline: `pipeline ${d.medians_s.unix_pipeline} s / framework ${d.medians_s.framework_shell} s`,
    small_job_latency_ms_median: `${d.small_job_latency_ms.length} jobs: ${d.small_job_latency_ms.join(', ')} ms`,
    api_calls_per_map_task: `${d.calls_module_wordcount.mapTasks} map tasks (shell job: ${d.calls_shell_wordcount.apiCallsPerMapTask})`,
    api_calls_per_reduce_task: `${d.calls_module_wordcount.reduceTasks} reduce tasks (shell job: ${d.calls_shell_wordcount.apiCallsPerReduceTask})`,
    s3_puts_per_map_attempt: `${d.calls_module_wordcount.mapAttempts} map attempts`,
    worker_peak_rss_mib: `partition ${(d.rss.reduce_partition_bytes! / MIB).toFixed(1)} MiB = ${d.rss.partition_over_buffer}× sort buffer ${(d.rss.sort_buffer_bytes! / MIB).toFixed(2)} MiB`,
    cost_per_tb_usd: `${d.throughput.framework_module_mib_s_per_worker} MiB/s per worker vCPU; Fargate $${d.cost.usd.fargate} (${d.cost.assumptions.on_demand_workers} on-demand + ${d.cost.assumptions.spot_workers} Spot workers); all on-demand $${d.cost_on_demand.totalUsd}`,
    straggler_slowdown: `one ${d.straggler.slow_factor}× map attempt: ${d.straggler.seconds.speculation_on.join(', ')} s / clean ${d.straggler.seconds.clean.join(', ')} s; speculation off ${d.straggler.slowdown_speculation_off}×`,
  };
  const names = r.corpora.map((c) => c.name);
  const value = (k: FigureName, v: number | null | undefined) => (v === null || v === undefined ? '—' : `${v} ${UNITS[k]}`);
  const rows = (Object.keys(TARGETS) as FigureName[]).map((k) => {
    const t = TARGETS[k];
    const met = r.met[k] === null ? 'skipped' : r.met[k] ? 'yes' : '**no**';
    const cells = names.map((n) => value(k, (r.figures_by_corpus[n] as Partial<Record<FigureName, number | null>>)[k]));
    return `| ${k} | ${value(k, r.figures[k])} | ${t.op} ${t.value} | ${met} | ${cells.join(' | ')} | ${anchor[k]} |`;
  });
  const m = r.machine;
  return [
    `Corpora ${r.corpora.map((c) => `${c.name} (${(c.bytes / MIB).toFixed(1)} MiB)`).join(', ')}; ${r.config.reps} reps, ` +
      `${r.config.workers} workers; ${m.cpu}, ${m.cores} cores, load ${m.load_avg_1m_start} → ${m.load_avg_1m_end}`,
    'value: the least favourable corpus for the per-corpus figures; "measured against": the first corpus.',
    '',
    `| figure | value | target | met | ${names.join(' | ')} | measured against |`,
    `|---|---|---|---|${names.map(() => '---|').join('')}---|`,
    ...rows,
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const args = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) args.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === '--no-peers') args.set('no-peers', '');
    // A bare flag (`--terasort --size 1G`, `--scale` with its defaults) when the next word is an option too.
    else if (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--')) args.set(a.slice(2), '');
    else args.set(a.slice(2), argv[++i]!);
  }
  const known = [
    ...['size', 'reps', 'latency-jobs', 'out', 'work-dir', 'words', 'seed', 'endpoint', 'scale', 'corpus', 'synthetic', 'no-peers'],
    ...['terasort', 'timeline', 'profile', 'worker-node-args', 'hot-key', 'values', 'straggler', 'map-seconds', 'keep-logs'],
  ];
  for (const k of args.keys()) if (!known.includes(k)) throw new Error(`unknown option --${k} (known: ${known.join(', ')})`);
  const root = packageRoot();
  const int = (name: string, d: number) => {
    const v = args.get(name);
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name}: expected a positive integer, got "${v}"`);
    return n;
  };
  if (args.has('scale')) return runScaleSection(args, root);
  if (args.has('hot-key')) return runHotKeySection(args, root);
  if (args.has('terasort')) return runTeraSortSection(args, root, parseSize(args.get('size') ?? '1G'), int('seed', DEFAULTS.seed));
  if (args.has('straggler')) return runStragglerOnly(args, root, int('reps', 1));
  const out = path.resolve(args.get('out') ?? path.join(root, 'bench', 'results', 'latest.json'));
  const result = await runBenchmark({
    sizeBytes: parseSize(args.get('size') ?? 'default'),
    reps: int('reps', DEFAULTS.reps),
    latencyJobs: int('latency-jobs', DEFAULTS.latencyJobs),
    workDir: path.resolve(args.get('work-dir') ?? path.join(os.tmpdir(), 'mapreduce-bench')),
    endpoint: args.get('endpoint') ?? (process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566'),
    startEmulator: true,
    seed: int('seed', DEFAULTS.seed),
    wordListFile: path.resolve(args.get('words') ?? path.join(root, 'bench', 'wordlist.txt')),
    rssSortBufferBytes: DEFAULTS.rssSortBufferBytes,
    workers: DEFAULTS.workers,
    corpora: parseCorpusOption(args.get('corpus') ?? 'both'),
    synthetic: parseSyntheticSpec(args.get('synthetic') ?? ''),
    peers: !args.has('no-peers'),
    log: (msg) => console.error(`[bench] ${msg}`),
  });
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(markdownTable(result));
  console.error(`[bench] wrote ${out}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    () => process.exit(0),
    (err) => {
      console.error(err instanceof Error ? (err.stack ?? err.message) : err);
      process.exit(1);
    },
  );
}
