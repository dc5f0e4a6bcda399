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
 *  7. small_job_16mib_ratio (small-job.ts), wordcount_e2e and cpu_per_mib (e2e.ts), and
 *     the optional peers Lithops and PySpark (peers.ts), through user-figures.ts.
 *
 * Figures 1, 2 and 7 are taken on every corpus of the run (corpora.ts: the English
 * Zipf corpus and a synthetic one); the others on the first corpus.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleStepModule } from '../../cli/bundle.js';
import type { ManifestInput } from '../../core/manifest.js';
import { packageRoot } from '../../local/stack.js';
import { BenchStack, type JobRun, putCode, uploadInParts } from './bench-stack.js';
import { readCallLog } from './calls.js';
import { type CorpusFile, DEFAULT_CORPORA, prepareCorpora } from './corpora.js';
import { shQuote, timed, timedWithCpu } from './processes.js';
import { type BenchOptions, type BenchResult, countInText, diffCounts } from './results.js';
import { measureRss } from './rss.js';
import { measureSmallJob, type SmallJobTimes } from './small-job.js';
import { measureUserFigures } from './user-figures.js';
import { formatCounts } from './single-process.js';
import { type Measured, type RunInputs, summarize } from './summary.js';

export async function runBenchmark(o: BenchOptions): Promise<BenchResult> {
  const load0 = os.loadavg();
  const started = new Date();
  const inputs = await prepareInputs(o);
  const callLog = path.join(o.workDir, `calls-${randomBytes(4).toString('hex')}.log`);
  o.log(`starting a local stack with ${o.workers} workers on ${o.endpoint}`);
  const b = await BenchStack.start(o, { MR_CALL_LOG: callLog });
  const measured: Record<string, Measured> = {};
  const small: Record<string, SmallJobTimes> = {};
  try {
    for (const [i, c] of inputs.corpora.entries()) {
      measured[c.name] = await measureJobs(o, b, inputs, c, i === 0);
      o.log(`${c.name}: the 16 MiB job`);
      small[c.name] = await measureSmallJob(o, b, {
        corpus: c.file,
        name: c.name,
        singleJs: inputs.singleJs,
        codeUri: await putCode(b, inputs.bundle, 'code/wordcount.mjs'),
      });
    }
  } catch (err) {
    o.log(b.workerLogTail());
    throw err;
  } finally {
    await b.stop();
  }
  const first = measured[inputs.corpora[0]!.name]!;
  const user = await measureUserFigures(o, inputs, first.moduleRun.job.numMaps);
  o.log('memory: a job whose single reduce partition is ≥ 4× the sort buffer');
  const rss = await measureRss(o, inputs.corpus, inputs.bundle);
  return summarize(o, inputs, first, readCallLog(callLog), rss, { load0: load0[0]!, started }, { measured, small, user });
}

/** The corpus (generated once per size and seed), the bundled module and the example scripts. */
async function prepareInputs(o: BenchOptions): Promise<RunInputs> {
  const root = packageRoot();
  const singleJs = path.join(root, 'dist', 'scripts', 'bench', 'single-process.js');
  if (!existsSync(singleJs)) throw new Error(`${singleJs} is missing: run \`npm run build\` first`);
  mkdirSync(o.workDir, { recursive: true });
  o.log(`corpora: ${(o.corpora ?? DEFAULT_CORPORA).join(', ')}; ${o.sizeBytes} bytes, seed ${o.seed}`);
  const { corpora, englishWords } = prepareCorpora(o, root);
  const corpus = corpora[0]!.file;
  const bundle = path.join(o.workDir, 'wordcount.mjs');
  await bundleStepModule(path.join(root, 'examples', 'wordcount', 'wordcount.ts'), bundle);
  return {
    root,
    singleJs,
    corpus,
    corpusBytes: corpora[0]!.bytes,
    words: englishWords,
    corpora,
    bundle,
    wcMap: path.join(root, 'examples', 'wordcount', 'wc_map.sh'),
    wcReduce: path.join(root, 'examples', 'wordcount', 'wc_reduce.sh'),
  };
}

/**
 * The timed jobs on one corpus: each rep runs the single-process anchor, the
 * framework's module word count, the Unix pipeline and the framework's shell word
 * count; then (first corpus only) the small latency jobs. Each framework output is
 * compared with its anchor's before its time counts.
 */
async function measureJobs(o: BenchOptions, b: BenchStack, x: RunInputs, c: CorpusFile, first: boolean): Promise<Measured> {
  const log = (msg: string) => o.log(`${c.name}: ${msg}`);
  const { singleJs, wcMap, wcReduce } = x;
  const corpus = c.file;
  const seconds: Record<string, number[]> = { single_process: [], framework_module: [], unix_pipeline: [], framework_shell: [] };
  const cpu: Record<string, number[]> = { single_process: [], framework_module: [], framework_module_emulator: [] };
  const outputsMatch: Record<string, boolean> = {};
  const latencies: number[] = [];
  let moduleRun: JobRun | undefined;
  let shellRun: JobRun | undefined;
  // ≥ 4 map tasks per worker pair (8 for two workers), 2 reducers; the corpus is stored as
  // that many objects (cut at line ends) like a real input directory, one split each.
  const numMaps = Math.max(4, 4 * o.workers);
  const splitSize = await uploadInParts(b, `in/corpus-${c.name}/`, readFileSync(corpus), numMaps);
  const files = [
    await putCode(b, x.bundle, 'code/wordcount.mjs'),
    await putCode(b, wcMap, 'code/wc_map.sh'),
    await putCode(b, wcReduce, 'code/wc_reduce.sh'),
  ];
  const mod = { module: 'wordcount.mjs' };
  const base = { input: b.uri(`in/corpus-${c.name}/`), files, numReducers: 2, splitSize };

  // The small input of the latency jobs, and a warm-up job (loads the module, JIT).
  const smallInput = latencyInput(readFileSync(corpus).subarray(0, 1024));
  await b.s.blobs.putBytes(b.bucket, `in/small-${c.name}/small.txt`, smallInput);
  const smallManifest = (i: number): ManifestInput => ({
    input: b.uri(`in/small-${c.name}/`),
    output: b.uri(`out/latency-${c.name}-${i}/`),
    mapper: mod,
    combiner: mod,
    reducer: mod,
    files: [files[0]!],
    numReducers: 1,
  });
  if (first) {
    log('warm-up job');
    await b.run(smallManifest(-1), 20);
  }

  const anchorOut = path.join(o.workDir, `single-process-${c.name}.out`);
  const pipelineOut = path.join(o.workDir, `unix-pipeline-${c.name}.out`);
  for (let rep = 0; rep < o.reps; rep++) {
    log(`rep ${rep + 1}/${o.reps}: single process`);
    const single = await timedWithCpu(process.execPath, [singleJs, corpus, anchorOut]);
    seconds.single_process!.push(single.seconds);
    cpu.single_process!.push(single.cpuSeconds);
    log(`rep ${rep + 1}/${o.reps}: framework, TS module word count`);
    const m = await b.run({ ...base, output: b.uri(`out/module-${c.name}-${rep}/`), mapper: mod, combiner: mod, reducer: mod }, 100);
    seconds.framework_module!.push(m.seconds);
    cpu.framework_module!.push(m.workerCpuSeconds);
    cpu.framework_module_emulator!.push(m.emulatorCpuSeconds);
    const d1 = diffCounts(readFileSync(anchorOut, 'utf8'), m.output);
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
    const sh = await b.run({ ...base, output: b.uri(`out/shell-${c.name}-${rep}/`), mapper: 'wc_map.sh', reducer: 'wc_reduce.sh' }, 100);
    seconds.framework_shell!.push(sh.seconds);
    const d2 = diffCounts(readFileSync(pipelineOut, 'utf8'), sh.output);
    outputsMatch.shell_vs_unix_pipeline = (outputsMatch.shell_vs_unix_pipeline ?? true) && d2 === undefined;
    if (d2) throw new Error(`framework shell word count differs from the unix pipeline: ${d2}`);
    shellRun = sh;
  }

  if (first) log(`small-job latency: ${o.latencyJobs} jobs of ${smallInput.length} bytes`);
  const smallExpected = formatCounts(countInText(smallInput.toString('utf8')));
  for (let i = 0; first && i < o.latencyJobs; i++) {
    const r = await b.run(smallManifest(i), 10);
    const d = diffCounts(smallExpected, r.output);
    if (d) throw new Error(`small job output differs: ${d}`);
    latencies.push(Math.round(r.seconds * 1000));
  }
  if (!moduleRun || !shellRun) throw new Error('the benchmark needs at least one rep');
  return { seconds, cpu, outputsMatch, latencies, moduleRun, shellRun, latencyInputBytes: smallInput.length };
}

/** Whole lines of a corpus's first KiB; a line longer than that is cut after a word, never inside a letter. */
function latencyInput(head: Buffer): Buffer {
  const nl = head.lastIndexOf(0x0a);
  if (nl > 0) return head.subarray(0, nl + 1);
  return Buffer.concat([head.subarray(0, Math.max(1, head.lastIndexOf(0x20))), Buffer.from('\n')]);
}
