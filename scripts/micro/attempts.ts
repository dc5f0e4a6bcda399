/**
 * Real map and reduce attempts, in-process, on a local corpus file: the same code the
 * workers run (worker/map-task.ts, worker/reduce-task.ts), with S3 and the task table
 * replaced by local files. Prints CPU seconds per MiB of input for the module word count
 * (examples/wordcount/wordcount.ts as mapper, combiner and reducer) and the shell one
 * (wc_map.sh / wc_reduce.sh), next to the single process's (scripts/bench/single-process.ts)
 * on the same file. Not a test and not part of `npm run bench`: run it by hand, note
 * `uptime` with the figures (CPU seconds, so a loaded machine blurs them less than wall time).
 *
 *   npx tsx scripts/micro/attempts.ts --file corpus.txt [--maps 1] [--reps 3] [--only module|shell|single]
 *   npx tsx scripts/micro/attempts.ts --shapes [--gen 16M] [--shape v1M-w200,v1k-w10]   # the issue's shapes, one JSON line each
 *   npx tsx scripts/micro/attempts.ts --gen 32M --vocab 50000 --words-per-line 3 [--utf8] [--seed 1]
 *   node --cpu-prof --cpu-prof-dir /tmp/prof --import tsx scripts/micro/attempts.ts --file c.txt --only module --reps 1
 *   npm run build && node dist/scripts/micro/attempts.js --shapes    # the workers' code as deployed (tsc output, no tsx)
 *   ... --gc    # also the collector's pauses in the map phase (median ms: scavenges, the rest)
 *   MR_MICRO_PHASES=1 node --trace-gc-nvp ...   # prints each map phase's start and end (ms) to align the trace with
 *   ... --profile map [--profile-out map.cpuprofile]   # a V8 CPU profile of each job's map phase (file.1, file.2, ...)
 *   MR_MICRO_INPUT_CHUNK=65536 ...   # the corpus read in pieces of this size (default 1 MiB, as a local stack reads file:// input)
 *
 * CPU of one attempt = this process's CPU during it + its finished children's (the shell
 * steps: tr, awk, cut, uniq), from /proc/self/stat. Each figure is
 * the median of `--reps` runs after one warm-up run (the workers are long-lived, so warm).
 */
import { ManifestSchema } from '../../core/manifest.js';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { constants as perfConstants, PerformanceObserver, performance, type PerformanceEntry } from 'node:perf_hooks';
import { tmpdir } from 'node:os';
import type { Session } from 'node:inspector/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleStepModule } from '../../cli/bundle.js';
import { ensureSyntheticCorpus } from '../bench/synthetic-corpus.js';
import type { AcceptedJob } from '../../core/model.js';
import type { Step } from '../../core/manifest.js';
import type { TaskItem } from '../../aws/task-store.js';
import { attemptInput, type AttemptResult } from '../../worker/attempt.js';
import { runMapAttempt } from '../../worker/map-task.js';
import { runReduceAttempt } from '../../worker/reduce-task.js';
import { arg, BUCKET, cpuChildren, cpuSelf, flag, localServices, median, MIB, parseSize } from './micro-support.js';

const here = path.dirname(fileURLToPath(import.meta.url));
/** The repository (this file runs from scripts/micro under tsx, or from dist/scripts/micro once built). */
const root = path.resolve(here, '..', '..', path.basename(path.resolve(here, '..', '..')) === 'dist' ? '..' : '.');

/** Line-aligned byte ranges: `n` splits of the file, like the bench's objects. */
async function lineAlignedSplits(file: string, n: number): Promise<Array<[number, number]>> {
  const buf = await readFile(file);
  const cuts = [0];
  for (let i = 1; i < n; i++) {
    const at = buf.indexOf(0x0a, Math.floor((buf.length * i) / n));
    cuts.push(at < 0 ? buf.length : at + 1);
  }
  cuts.push(buf.length);
  return cuts.slice(0, -1).map((c, i) => [c, cuts[i + 1]!]);
}

interface JobShape {
  mapper: Step;
  combiner?: Step;
  reducer: Step;
}

/** One whole job (all map attempts, then all reduce attempts) in this process; returns CPU seconds. */
interface JobCpu {
  map: number;
  reduce: number;
  mapChildren: number;
  /** The job's output lines, sorted (the part files of its reduce attempts). */
  output: string[];
  /** When the map attempts started and ended, and the reduce attempts ended (performance.now()). */
  times: [number, number, number];
}

/**
 * The collector's pauses (`--gc`): every GC entry of this process, to be summed by kind
 * over a job's map phase (scavenges vs mark-compacts: what the main thread waited for).
 */
const gcEntries: PerformanceEntry[] = [];
let gcObserver: PerformanceObserver | undefined;

/** Milliseconds of scavenges and of the rest (mark-compact, incremental steps, weak callbacks) between `from` and `to`. */
async function gcPauses(from: number, to: number): Promise<{ scavenge: number; other: number; scavenges: number }> {
  await new Promise((r) => setTimeout(r, 10)); // entries arrive asynchronously
  let scavenge = 0;
  let other = 0;
  let scavenges = 0;
  for (const e of gcEntries) {
    if (e.startTime < from || e.startTime >= to) continue;
    const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) {
      scavenge += e.duration;
      scavenges++;
    } else other += e.duration;
  }
  return { scavenge, other, scavenges };
}

async function runJob(corpus: string, shape: JobShape, maps: number, reduces: number, codeDir: string): Promise<JobCpu> {
  const dir = await mkdtemp(path.join(tmpdir(), 'micro-attempts-'));
  try {
    const { size } = await stat(corpus);
    const ranges = await lineAlignedSplits(corpus, maps);
    const committed: TaskItem[] = [];
    const s = localServices(dir, () => committed);
    const job = {
      jobId: 'j',
      numMaps: maps,
      numReduces: reduces,
      manifest: ManifestSchema.parse({ input: `s3://${BUCKET}/in`, output: `s3://${BUCKET}/out/`, ...shape }),
    } as unknown as AcceptedJob;
    const attempt = async (task: TaskItem): Promise<AttemptResult> => {
      const workDir = path.join(dir, `${task.taskId}-w`);
      await mkdir(workDir, { recursive: true });
      for (const f of ['wordcount.mjs', 'wc_map.sh', 'wc_reduce.sh']) await copyFile(path.join(codeDir, f), path.join(workDir, f));
      execFileSync('chmod', ['+x', path.join(workDir, 'wc_map.sh'), path.join(workDir, 'wc_reduce.sh')]);
      const base = {
        services: s,
        job,
        task,
        workDir,
        settings: { sortBufferBytes: 128 * MIB, scratchDir: dir, mapSideBytes: process.env.MR_MAP_SIDE_BYTES !== 'false' },
        signal: new AbortController().signal,
        progress: { done: 0, total: 0 },
      };
      const input = attemptInput(base, () => ({
        env: { MR_JOB_ID: 'j', MR_TASK_ID: task.taskId },
        noProgressTimeoutMs: 600_000,
        onCounter: () => {},
        onStatus: () => {},
      }));
      return task.kind === 'map' ? runMapAttempt(input) : runReduceAttempt(input);
    };
    // Awaited only when profiling: the measured phases' boundaries stay as they were without it.
    const profiling = arg('profile') === 'map' ? await startProfile() : undefined;
    const t0 = performance.now();
    const c0 = cpuNow();
    const k0 = cpuChildren();
    for (let i = 0; i < ranges.length; i++) {
      const [start, end] = ranges[i]!;
      const taskId = `m${String(i).padStart(5, '0')}`;
      const split = { bucket: BUCKET, key: corpus, start, end, objectSize: size, gzip: false };
      const task = { jobId: 'j', taskId, kind: 'map', index: i, status: 'RUNNING', attempt: 1, split } as unknown as TaskItem;
      const r = await attempt(task);
      committed.push({ ...task, status: 'COMMITTED', output: r.output } as TaskItem);
    }
    const c1 = cpuNow();
    const k1 = cpuChildren();
    const t1 = performance.now();
    if (profiling) await stopProfile(profiling);
    if (process.env.MR_MICRO_PHASES) console.error(`phase map ${t0.toFixed(0)} ${t1.toFixed(0)}`);
    const parts: string[] = [];
    for (let r = 0; r < reduces; r++) {
      const out = await attempt({ jobId: 'j', taskId: `r${String(r).padStart(5, '0')}`, kind: 'reduce', index: r, status: 'RUNNING', attempt: 1 } as unknown as TaskItem);
      parts.push(path.join(dir, BUCKET, out.output.key));
    }
    const c2 = cpuNow();
    const output = parts.flatMap((f) => readFileSync(f, 'latin1').split('\n').filter((l) => l !== ''));
    return { map: c1 - c0, reduce: c2 - c1, mapChildren: k1 - k0, output: output.sort(), times: [t0, t1, performance.now()] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Map phases profiled so far (`--profile map`): each job's goes to its own file. */
let profiles = 0;

/** Starts the V8 profiler for a map phase (`--profile map`). */
async function startProfile(): Promise<Session> {
  // Loaded only when profiling: the measured runs stay as they were without the inspector.
  const inspector = await import('node:inspector/promises');
  const session = new inspector.Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return session;
}

/** Stops it and writes the profile to `--profile-out`.N (not counted in the phase's CPU: after c1). */
async function stopProfile(session: Session): Promise<void> {
  const { profile } = await session.post('Profiler.stop');
  await writeFile(`${arg('profile-out') ?? 'map.cpuprofile'}.${++profiles}`, JSON.stringify(profile));
  session.disconnect();
}

/** CPU seconds of this process plus its reaped children. */
function cpuNow(): number {
  return cpuSelf() + cpuChildren();
}

/** The corpus shapes (#14): vocabulary, words per line, non-ASCII. */
const SHAPES: Array<{ name: string; vocab: number; wpl: number; utf8: boolean }> = [
  { name: 'v1k-w10', vocab: 1_000, wpl: 10, utf8: false },
  { name: 'v50k-w10', vocab: 50_000, wpl: 10, utf8: false },
  { name: 'v1M-w10', vocab: 1_000_000, wpl: 10, utf8: false },
  { name: 'v50k-w3', vocab: 50_000, wpl: 3, utf8: false },
  { name: 'v50k-w200', vocab: 50_000, wpl: 200, utf8: false },
  { name: 'v50k-w10-utf8', vocab: 50_000, wpl: 10, utf8: true },
  // The bench's second corpus (DEFAULT_SYNTHETIC): ~every word distinct within a split.
  { name: 'v1M-w200', vocab: 1_000_000, wpl: 200, utf8: false },
];

/** The bench's synthetic corpus (scripts/bench/synthetic-corpus.ts) of this shape, generated once under $TMPDIR. */
function corpusFile(bytes: number, vocabulary: number, wordsPerLine: number, utf8: boolean, seed: number): string {
  return ensureSyntheticCorpus(tmpdir(), { vocabulary, wordsPerLine, utf8, zipfExponent: 1 }, bytes, seed);
}

/** CPU s/MiB of the single process, the module and the shell word count on one file. */
async function measure(corpus: string, o: { maps: number; reps: number; only?: string; codeDir: string }): Promise<Record<string, string>> {
  const mib = (await stat(corpus)).size / MIB;
  const row: Record<string, string> = { corpus: path.basename(corpus), mib: mib.toFixed(1) };
  const perMib = (x: number) => (x / mib).toFixed(4);
  await rm(path.join(o.codeDir, 'single.out'), { force: true });
  if (!o.only || o.only === 'single') {
    const xs: number[] = [];
    for (let i = 0; i < o.reps; i++) {
      const before = cpuNow();
      execFileSync(process.execPath, [path.join(o.codeDir, 'single.mjs'), corpus, path.join(o.codeDir, 'single.out')], { stdio: 'ignore' });
      xs.push(cpuNow() - before);
    }
    row.single = perMib(median(xs));
  }
  const jobs: Record<string, JobShape> = {
    module: { mapper: { module: 'wordcount.mjs' }, combiner: { module: 'wordcount.mjs' }, reducer: { module: 'wordcount.mjs' } },
    shell: { mapper: 'wc_map.sh', reducer: 'wc_reduce.sh' },
  };
  for (const [name, shape] of Object.entries(jobs)) {
    if (o.only && o.only !== name) continue;
    // Warm-up (the workers are long-lived), and the output checked against the single process's.
    const warm = await runJob(corpus, shape, o.maps, 2, o.codeDir);
    if (existsSync(path.join(o.codeDir, 'single.out'))) {
      const expected = readFileSync(path.join(o.codeDir, 'single.out'), 'latin1').split('\n').filter((l) => l !== '').sort();
      const same = expected.length === warm.output.length && expected.every((l, i) => l === warm.output[i]);
      row[`${name}_output`] = same ? 'same' : `DIFFERS (${warm.output.length} vs ${expected.length} lines)`;
    }
    const m: number[] = [];
    const r: number[] = [];
    const k: number[] = [];
    const gs: number[] = [];
    const gn: number[] = [];
    const go: number[] = [];
    for (let i = 0; i < o.reps; i++) {
      const t = await runJob(corpus, shape, o.maps, 2, o.codeDir);
      m.push(t.map);
      r.push(t.reduce);
      k.push(t.mapChildren);
      if (gcObserver) {
        const g = await gcPauses(t.times[0], t.times[1]);
        gs.push(g.scavenge);
        gn.push(g.scavenges);
        go.push(g.other);
      }
    }
    if (gcObserver) {
      row[`${name}_map_gc_ms`] = `scavenges ${median(gn)}: ${median(gs).toFixed(0)}, other ${median(go).toFixed(0)}`;
      gcEntries.length = 0;
    }
    if (name === 'shell') row.shell_map_children = perMib(median(k));
    row[`${name}_map`] = perMib(median(m));
    row[`${name}_reduce`] = perMib(median(r));
    row[name] = perMib(median(m.map((x, i) => x + r[i]!)));
  }
  return row;
}

async function main(): Promise<void> {
  const maps = Number(arg('maps') ?? 1);
  const reps = Number(arg('reps') ?? 3);
  const only = arg('only');
  const seed = Number(arg('seed') ?? 1);
  const bytes = parseSize(arg('gen') ?? '16M');
  const codeDir = await mkdtemp(path.join(tmpdir(), 'micro-code-'));
  await bundleStepModule(path.join(root, 'examples', 'wordcount', 'wordcount.ts'), path.join(codeDir, 'wordcount.mjs'));
  await bundleStepModule(path.join(root, 'scripts', 'bench', 'single-process.ts'), path.join(codeDir, 'single.mjs'));
  for (const f of ['wc_map.sh', 'wc_reduce.sh']) await copyFile(path.join(root, 'examples', 'wordcount', f), path.join(codeDir, f));
  const o = { maps, reps, only, codeDir };
  if (flag('gc')) {
    gcObserver = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) gcEntries.push(e);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
  }
  try {
    const file = arg('file');
    if (file) {
      console.log(JSON.stringify(await measure(file, o)));
    } else if (flag('shapes')) {
      console.log(`uptime: ${readFileSync('/proc/loadavg', 'latin1').trim()}`);
      const pick = arg('shape')?.split(',');
      for (const sh of SHAPES.filter((x) => !pick || pick.includes(x.name))) {
        const row = await measure(corpusFile(bytes, sh.vocab, sh.wpl, sh.utf8, seed), o);
        console.log(JSON.stringify({ shape: sh.name, ...row, load: readFileSync('/proc/loadavg', 'latin1').split(' ')[0] }));
      }
    } else {
      const corpus = corpusFile(bytes, Number(arg('vocab') ?? 50_000), Number(arg('words-per-line') ?? 10), flag('utf8'), seed);
      console.log(JSON.stringify(await measure(corpus, o)));
    }
  } finally {
    await rm(codeDir, { recursive: true, force: true });
  }
}

await main();
