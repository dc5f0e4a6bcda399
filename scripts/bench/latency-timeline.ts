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
 * `--mib N` sets the corpus job's size (default 16); `--parts K` stores it as K objects cut
 * at line ends, one split each (`--maps` is then unused), as the bench stores its 256 MiB
 * corpus (`--mib 256 --parts 8` is the bench's `framework_module` job, polled like it with `--poll-ms 100`).
 * Each job also prints where each worker was idle (see idleOf): before its first claim,
 * between a commit and its next claim, and from its last commit to `_SUCCESS`; and the
 * workers' idle seconds as the bench's figures see them, wall x workers - workers' CPU.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { bundleStepModule } from '../../cli/bundle.js';
import { packageRoot } from '../../local/stack.js';
import { BenchStack, putCode } from './bench-stack.js';
import { cutAtLines, ensureCorpus, loadWordList, MIB } from './corpus.js';
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
  // This process runs the local stack's coordinator and checker and the `_SUCCESS` polls.
  const harnessCpu: number[] = [];
  const phases: Array<Record<Phase, number>> = [];
  const idle: Array<{ measured: number; byCpu: number }> = [];
  try {
    const code = await putCode(b, bundle, 'code/wordcount.mjs');
    const corpus = arg('corpus', '');
    const data = corpus ? readFileSync(corpusFile(corpus, workDir, root, Number(arg('mib', '16')) * MIB)) : smallText(root);
    const parts = corpus ? cutAtLines(data, Number(arg('parts', '1'))) : [[0, data.length] as [number, number]];
    for (const [i, [start, end]] of parts.entries()) {
      await b.s.blobs.putBytes(b.bucket, `in/small/part-${String(i).padStart(3, '0')}.txt`, data.subarray(start, end));
    }
    const mod = { module: 'wordcount.mjs' };
    // Several objects: one split each, as the bench's splitSize (its largest object) makes them.
    const largest = Math.max(...parts.map(([start, end]) => end - start));
    const shape = !corpus ? { numReducers: 1 } : parts.length > 1 ? { numReducers: 2, splitSize: largest } : { numReducers: 2, numMappers: Number(arg('maps', '4')) };
    const gapMs = Number(arg('gap', '0')) * 1000;
    for (let i = -1; i < jobs; i++) {
      const own0 = process.cpuUsage();
      const r = await b.run(
        { input: b.uri('in/small/'), output: b.uri(`out/latency-${i}/`), mapper: mod, combiner: mod, reducer: mod, files: [code], ...shape },
        Number(arg('poll-ms', corpus ? '20' : '10')),
      );
      const own = process.cpuUsage(own0);
      if (gapMs > 0 && i < jobs - 1) await new Promise((resolve) => setTimeout(resolve, gapMs));
      if (i < 0) continue;
      harnessCpu.push(Math.round((own.user + own.system) / 1000));
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
      const w = idleOf(lines, t0);
      for (const [pid, x] of w) {
        console.log(`  worker ${pid}: idle ${x.total} ms = start ${x.start}, ${x.gaps.map((g) => `${g.label} ${g.ms}`).join(', ')}, end ${x.end}; tasks ${x.tasks.join(' ')}`);
      }
      const measured = [...w.values()].reduce((n, x) => n + x.total, 0);
      const byCpu = Math.round(r.seconds * 1000 * w.size - r.workerCpuSeconds * 1000);
      idle.push({ measured, byCpu });
      console.log(`  workers idle: ${measured} ms by the timeline; ${byCpu} ms by wall x ${w.size} - workers' CPU`);
    }
  } finally {
    if (nodeArgs.length > 0) console.log(`worker logs in ${b.stateDir}`);
    await b.stop();
  }
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`\nlatencies ${sorted(latencies).join(', ')} ms; median ${median(latencies)} ms; load ${load}`);
  console.log(`cpu ms per job (until _SUCCESS seen): workers median ${median(workerCpu)}, emulator median ${median(emulatorCpu)}, this process (coordinator, checker, polls) median ${median(harnessCpu)}`);
  if (phases.length > 0) console.log(`phase medians (ms): ${PHASES.map((k) => `${k} ${median(phases.map((x) => x[k]))}`).join(', ')}`);
  if (idle.length > 0) console.log(`workers idle medians (ms): timeline ${median(idle.map((x) => x.measured))}, wall x workers - CPU ${median(idle.map((x) => x.byCpu))}`);
}

interface WorkerIdle {
  /** Upload → the worker's first claim. */
  readonly start: number;
  /** A commit → the worker's next claim, labelled by the two tasks' kinds (m>m, m>r, r>r). */
  readonly gaps: Array<{ label: string; ms: number }>;
  /** The worker's last commit → `_SUCCESS`. */
  readonly end: number;
  readonly total: number;
  /** Each task as `id@claim-commit` (ms from the upload). */
  readonly tasks: string[];
}

/**
 * Where each worker (by pid) was without a task of the job: its claims (the TASK
 * UpdateItem that is not a heartbeat) and commits (TransactWriteItems) from the call log.
 * Time inside a task (claim → commit) counts as busy even when the worker waits in it.
 */
function idleOf(lines: readonly string[], t0: number): Map<string, WorkerIdle> {
  const f = lines.map((l) => l.split(' '));
  const success = f.filter((x) => x[3] === 'PutObject' && (x[6] ?? '').endsWith('/_SUCCESS')).map((x) => Number(x[0]) - t0);
  const done = success.length > 0 ? Math.max(...success) : Number.NaN;
  const byPid = new Map<string, Array<{ task: string; claim: number; commit: number }>>();
  for (const x of f) {
    const task = x[5] ?? '-';
    if (!/^[mr]-/.test(task) || x[8] === 'hb') continue;
    const ms = Number(x[0]) - t0;
    const list = byPid.get(x[1]!) ?? [];
    byPid.set(x[1]!, list);
    if (x[3] === 'UpdateItem' && x[6] === 'TASK' && !list.some((t) => t.task === task)) list.push({ task, claim: ms, commit: Number.NaN });
    if (x[3] === 'TransactWriteItems') {
      const t = list.find((y) => y.task === task);
      if (t) t.commit = ms;
    }
  }
  const out = new Map<string, WorkerIdle>();
  for (const [pid, list] of byPid) {
    if (list.length === 0) continue;
    const gaps = list.slice(1).map((t, i) => ({ label: `${list[i]!.task[0]}>${t.task[0]}`, ms: t.claim - list[i]!.commit }));
    const start = list[0]!.claim;
    const end = done - list.at(-1)!.commit;
    out.set(pid, {
      start,
      gaps,
      end,
      total: start + end + gaps.reduce((n, g) => n + g.ms, 0),
      tasks: list.map((t) => `${t.task}@${t.claim}-${t.commit}`),
    });
  }
  return out;
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

/** The bench's corpus of this kind and size (seed 42), generated once under `dir`. */
function corpusFile(kind: string, dir: string, root: string, bytes: number): string {
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
