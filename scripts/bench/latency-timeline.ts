/**
 * `node dist/scripts/bench/latency-timeline.js [--jobs N] [--endpoint URL] [--work-dir DIR]`:
 * where a small job's fixed time goes. Runs the benchmark's 1 KiB latency job (module word
 * count, 1 reducer, warm stack with the `local up` timings) N times after a warm-up job and
 * prints, for each, the wall time from manifest upload to `_SUCCESS` and the workers' AWS
 * calls (MR_CALL_LOG) as a timeline relative to the upload; then the median. With
 * `--corpus english|synthetic` it runs the 16 MiB job of `small_job_16mib_ratio` instead
 * (the bench's corpus of that size, seed 42, one object, `--maps` map tasks (default 4),
 * 2 reducers). Each job's time is also cut into phases (start, maps, handoff, reduce,
 * finish, seen: see PHASES), with their medians at the end. `--poll-ms` sets how often the
 * harness looks for `_SUCCESS` (the bench's: 20 ms for the 16 MiB job, 10 for the 1 KiB one;
 * each look is a HEAD the emulator pays for). `--node-args "..."` starts the
 * workers with extra node options (e.g. `--trace-gc`) and keeps their logs. Diagnosis
 * only: the figures themselves come from `npm run bench`. `--gap S` waits S seconds after
 * each job (the warm-up too), e.g. past the workers' 20 s long poll, so each job starts on
 * workers whose receive came back empty (the idle collection's A/B, docs/performance.md).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { bundleStepModule } from '../../cli/bundle.js';
import { packageRoot } from '../../local/stack.js';
import { BenchStack, putCode } from './bench-stack.js';
import { ensureCorpus, loadWordList, MIB } from './corpus.js';
import { DEFAULT_SYNTHETIC, ensureSyntheticCorpus } from './synthetic-corpus.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

async function main(): Promise<void> {
  const jobs = Number(arg('jobs', '5'));
  const endpoint = arg('endpoint', process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566');
  const workDir = arg('work-dir', path.join(os.tmpdir(), 'mapreduce-latency'));
  mkdirSync(workDir, { recursive: true });
  const root = packageRoot();
  const bundle = path.join(workDir, 'wordcount.mjs');
  await bundleStepModule(path.join(root, 'examples', 'wordcount', 'wordcount.ts'), bundle);
  // e.g. --node-args "--trace-gc" or "--cpu-prof --cpu-prof-dir=/tmp/prof" (the worker logs are kept then).
  const nodeArgs = arg('node-args', '').split(' ').filter((x) => x !== '');
  const callLog = path.join(workDir, `calls-${randomBytes(4).toString('hex')}.log`);
  const b = await BenchStack.start({ workDir, endpoint, workers: 2, startEmulator: true }, { MR_CALL_LOG: callLog }, nodeArgs);
  const latencies: number[] = [];
  const workerCpu: number[] = [];
  const emulatorCpu: number[] = [];
  const phases: Array<Record<Phase, number>> = [];
  try {
    const code = await putCode(b, bundle, 'code/wordcount.mjs');
    const corpus = arg('corpus', '');
    await b.s.blobs.putBytes(b.bucket, 'in/small/small.txt', corpus ? readFileSync(corpusFile(corpus, workDir, root)) : smallText(root));
    const mod = { module: 'wordcount.mjs' };
    const shape = corpus ? { numReducers: 2, numMappers: Number(arg('maps', '4')) } : { numReducers: 1 };
    const gapMs = Number(arg('gap', '0')) * 1000;
    for (let i = -1; i < jobs; i++) {
      const r = await b.run(
        { input: b.uri('in/small/'), output: b.uri(`out/latency-${i}/`), mapper: mod, combiner: mod, reducer: mod, files: [code], ...shape },
        Number(arg('poll-ms', corpus ? '20' : '10')),
      );
      if (gapMs > 0 && i < jobs - 1) await new Promise((resolve) => setTimeout(resolve, gapMs));
      if (i < 0) continue;
      latencies.push(Math.round(r.seconds * 1000));
      workerCpu.push(Math.round(r.workerCpuSeconds * 1000));
      emulatorCpu.push(Math.round(r.emulatorCpuSeconds * 1000));
      const t0 = r.window[0];
      const job = r.job;
      console.log(`\njob ${i} ${r.jobId}: ${Math.round(r.seconds * 1000)} ms, workers ${workerCpu.at(-1)} ms CPU; created +${Date.parse(job.createdAt) - t0} started +${job.startedAt ? Date.parse(job.startedAt) - t0 : '-'} finished +${job.finishedAt ? Date.parse(job.finishedAt) - t0 : '-'}`);
      const lines = readFileSync(callLog, 'utf8').split('\n').filter((l) => l.includes(r.jobId));
      for (const l of lines) {
        const [ms, pid, svc, op, , task, what, , hb] = l.split(' ');
        console.log(`  +${String(Number(ms) - t0).padStart(5)} ${pid} ${svc} ${op} ${task} ${what}${hb === 'hb' ? ' hb' : ''}`);
      }
      const p = phasesOf(lines, t0, Math.round(r.seconds * 1000));
      phases.push(p);
      console.log(`  phases (ms): ${PHASES.map((k) => `${k} ${p[k]}`).join(', ')}`);
    }
  } finally {
    if (nodeArgs.length > 0) console.log(`worker logs in ${b.stateDir}`);
    await b.stop();
  }
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`\nlatencies ${sorted(latencies).join(', ')} ms; median ${median(latencies)} ms; load ${load}`);
  console.log(`cpu ms per job (until _SUCCESS seen): workers median ${median(workerCpu)}, emulator median ${median(emulatorCpu)}`);
  if (phases.length > 0) console.log(`phase medians (ms): ${PHASES.map((k) => `${k} ${median(phases.map((x) => x[k]))}`).join(', ')}`);
}

/**
 * The job's wall time cut at the workers' calls: start (upload → first map claim), maps
 * (→ last map commit), handoff (→ last reduce claim), reduce (→ last reduce commit),
 * finish (→ `_SUCCESS` PUT), seen (→ the harness saw it).
 */
const PHASES = ['start', 'maps', 'handoff', 'reduce', 'finish', 'seen'] as const;
type Phase = (typeof PHASES)[number];

function phasesOf(lines: readonly string[], t0: number, totalMs: number): Record<Phase, number> {
  const at = (test: (f: string[]) => boolean, pick: 'first' | 'last'): number => {
    const hits = lines.map((l) => l.split(' ')).filter(test).map((f) => Number(f[0]) - t0);
    return hits.length === 0 ? Number.NaN : pick === 'first' ? hits[0]! : hits[hits.length - 1]!;
  };
  const isOp = (f: string[], op: string, kind: string) => f[3] === op && (f[5] ?? '').includes(`${kind}-`) && f[8] !== 'hb';
  const marks = [
    0,
    at((f) => isOp(f, 'UpdateItem', 'm') && f[6] === 'TASK', 'first'),
    at((f) => isOp(f, 'TransactWriteItems', 'm'), 'last'),
    at((f) => isOp(f, 'UpdateItem', 'r') && f[6] === 'TASK', 'last'),
    at((f) => isOp(f, 'TransactWriteItems', 'r'), 'last'),
    at((f) => f[3] === 'PutObject' && (f[6] ?? '').endsWith('/_SUCCESS'), 'last'),
    totalMs,
  ];
  return Object.fromEntries(PHASES.map((k, i) => [k, marks[i + 1]! - marks[i]!])) as Record<Phase, number>;
}

/** The benchmark's 1 KiB latency input. */
function smallText(root: string): Buffer {
  const words = readFileSync(path.join(root, 'bench', 'wordlist.txt'), 'utf8').split('\n').slice(0, 200);
  let text = '';
  for (let i = 0; text.length < 1000; i++) text += `${words[i % words.length]}${i % 8 === 7 ? '\n' : ' '}`;
  return Buffer.from(`${text.trimEnd()}\n`);
}

/** The bench's 16 MiB corpus of this kind (seed 42), generated once under `dir`. */
function corpusFile(kind: string, dir: string, root: string): string {
  const bytes = 16 * MIB;
  if (kind === 'synthetic') return ensureSyntheticCorpus(dir, DEFAULT_SYNTHETIC, bytes, 42);
  if (kind !== 'english') throw new Error(`--corpus: expected english or synthetic, got "${kind}"`);
  const wordList = path.join(root, 'bench', 'wordlist.txt');
  return ensureCorpus(dir, { bytes, words: loadWordList(wordList), seed: 42, wordListName: path.basename(wordList) });
}

function sorted(xs: readonly number[]): number[] {
  return [...xs].sort((a, c) => a - c);
}

function median(xs: readonly number[]): number {
  const s = sorted(xs);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

await main();
