/**
 * The terasort job's map and reduce attempts, in-process, on local files: TeraGen records
 * (scripts/bench/teragen.ts), `cat` mapper and reducer, the total-order partitioner with
 * split points sampled from the input, a 64 MiB sort buffer, R = 4: the bench's job
 * (scripts/bench/terasort.ts) without S3, DynamoDB and the emulator. Prints the CPU seconds
 * of the map and of the reduce attempts (this process's CPU plus the reaped `cat`
 * processes', from /proc/self/stat), median of `--reps` runs after a warm-up, and checks
 * that the parts in order equal `LC_ALL=C sort` of the input byte for byte.
 *
 *   npm run build && node --max-old-space-size=1024 --heap-growing-percent=100 \
 *     dist/scripts/micro/sort-attempts.js [--size 64M] [--maps 4] [--reps 3] [--reducer CMD]
 *     [--profile map|reduce --profile-out file.cpuprofile]   # V8 CPU profile of that phase of the last run
 *
 * Not a test and not part of `npm run bench`: note `uptime` with the figures.
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { copyFile, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { createReadStream, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { TaskItem } from '../../aws/task-store.js';
import { DEFAULT_TIMINGS } from '../../core/config.js';
import { ManifestSchema } from '../../core/manifest.js';
import type { AcceptedJob } from '../../core/model.js';
import { splitPoints } from '../../core/total-order.js';
import type { Services } from '../../services/context.js';
import { attemptInput, type AttemptResult } from '../../worker/attempt.js';
import { runMapAttempt } from '../../worker/map-task.js';
import { runReduceAttempt } from '../../worker/reduce-task.js';
import { KEY_BYTES, RECORD_BYTES, writeTeraFile } from '../bench/teragen.js';

const MIB = 1024 * 1024;
const BUCKET = 'micro';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

function parseSize(s: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  return Number(m[1]) * ({ '': 1, K: 1024, M: MIB, G: 1024 * MIB } as Record<string, number>)[m[2]!.toUpperCase()]!;
}

/** CPU seconds of this process and of its reaped children (clock ticks of 1/100 s). */
function cpu(): { self: number; children: number } {
  const f = readFileSync('/proc/self/stat', 'latin1').split(') ')[1]!.split(' ');
  return { self: (Number(f[11]) + Number(f[12])) / 100, children: (Number(f[13]) + Number(f[14])) / 100 };
}

/** Files stand in for objects: bucket/key → a path under `dir`. */
function localServices(dir: string, committedMaps: () => TaskItem[]): Services {
  const file = (bucket: string, key: string) => (key.startsWith('/') ? key : path.join(dir, bucket, key));
  const blobs = {
    getRange: async (bucket: string, key: string, start: number, endExclusive?: number): Promise<Readable> =>
      createReadStream(file(bucket, key), { start, end: endExclusive === undefined ? undefined : endExclusive - 1, highWaterMark: 64 * 1024 }),
    putFile: async (bucket: string, key: string, from: string): Promise<number> => {
      const to = file(bucket, key);
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(from, to);
      return (await stat(to)).size;
    },
    putBytes: async (bucket: string, key: string, body: string | Uint8Array) => {
      const to = file(bucket, key);
      await mkdir(path.dirname(to), { recursive: true });
      await writeFile(to, body);
    },
  };
  const tasks = { list: async () => committedMaps() };
  const log = { info() {}, warn() {}, error() {}, debug() {} };
  return { names: { bucket: BUCKET }, blobs, inputs: blobs, tasks, log, now: Date.now, timings: DEFAULT_TIMINGS } as unknown as Services;
}

interface Run {
  map: number;
  mapChildren: number;
  reduce: number;
  reduceChildren: number;
  same: boolean;
}

/** A V8 CPU profile of one phase (`--profile map|reduce`), written to `--profile-out`. */
async function profiled<T>(on: boolean, f: () => Promise<T>): Promise<T> {
  if (!on) return f();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  try {
    return await f();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    await writeFile(arg('profile-out') ?? 'phase.cpuprofile', JSON.stringify(profile));
    session.disconnect();
  }
}

async function runJob(input: string, sorted: string, maps: number, reducer: string, points: string[], profile?: string): Promise<Run> {
  const dir = await mkdtemp(path.join(tmpdir(), 'micro-sort-'));
  try {
    const { size } = await stat(input);
    const committed: TaskItem[] = [];
    const s = localServices(dir, () => committed);
    const job = {
      jobId: 'j',
      numMaps: maps,
      numReduces: points.length + 1,
      splitPoints: points,
      manifest: ManifestSchema.parse({
        input: `s3://${BUCKET}/in`,
        output: `s3://${BUCKET}/out/`,
        mapper: 'cat',
        reducer,
        jobconf: { 'mapreduce.job.partitioner.class': 'TotalOrderPartitioner' },
      }),
    } as unknown as AcceptedJob;
    const attempt = async (task: TaskItem): Promise<AttemptResult> => {
      const workDir = path.join(dir, `${task.taskId}-w`);
      await mkdir(workDir, { recursive: true });
      const base = {
        services: s,
        job,
        task,
        workDir,
        settings: { sortBufferBytes: 64 * MIB, scratchDir: dir },
        signal: new AbortController().signal,
        progress: { done: 0, total: 0 },
      };
      const ai = attemptInput(base, () => ({
        env: { MR_JOB_ID: 'j', MR_TASK_ID: task.taskId },
        noProgressTimeoutMs: 600_000,
        onCounter: () => {},
        onStatus: () => {},
      }));
      return task.kind === 'map' ? runMapAttempt(ai) : runReduceAttempt(ai);
    };
    const records = size / RECORD_BYTES;
    const c0 = cpu();
    await profiled(profile === 'map', async () => {
    for (let i = 0; i < maps; i++) {
      const start = Math.floor((records * i) / maps) * RECORD_BYTES;
      const end = Math.floor((records * (i + 1)) / maps) * RECORD_BYTES;
      const taskId = `m${String(i).padStart(5, '0')}`;
      const split = { bucket: BUCKET, key: input, start, end, objectSize: size, gzip: false };
      const task = { jobId: 'j', taskId, kind: 'map', index: i, status: 'RUNNING', attempt: 1, split } as unknown as TaskItem;
      const r = await attempt(task);
      committed.push({ ...task, status: 'COMMITTED', output: r.output } as TaskItem);
    }
    });
    const c1 = cpu();
    const parts: string[] = [];
    await profiled(profile === 'reduce', async () => {
      for (let r = 0; r <= points.length; r++) {
        const task = { jobId: 'j', taskId: `r${String(r).padStart(5, '0')}`, kind: 'reduce', index: r, status: 'RUNNING', attempt: 1 };
        const out = await attempt(task as unknown as TaskItem);
        parts.push(path.join(dir, BUCKET, out.output.key));
      }
    });
    const c2 = cpu();
    const cmp = spawnSync('sh', ['-c', 'cat "$@" | cmp -s - "$0"', sorted, ...parts]);
    return {
      map: c1.self - c0.self,
      mapChildren: c1.children - c0.children,
      reduce: c2.self - c1.self,
      reduceChildren: c2.children - c1.children,
      same: cmp.status === 0,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Hadoop-style split points from every 100th key of the input. */
function pointsOf(file: string, reduces: number): string[] {
  const buf = readFileSync(file);
  const keys: string[] = [];
  for (let o = 0; o < buf.length; o += 100 * RECORD_BYTES) keys.push(buf.toString('latin1', o, o + KEY_BYTES));
  return splitPoints(keys, reduces);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const bytes = parseSize(arg('size') ?? '64M');
  const maps = Number(arg('maps') ?? 4);
  const reps = Number(arg('reps') ?? 3);
  const reducer = arg('reducer') ?? 'cat';
  const dir = await mkdtemp(path.join(tmpdir(), 'micro-sort-in-'));
  try {
    const input = path.join(dir, 'tera.txt');
    writeTeraFile(input, 1, Math.floor(bytes / RECORD_BYTES));
    const sorted = path.join(dir, 'sorted.txt');
    spawnSync('sh', ['-c', `LC_ALL=C sort -o '${sorted}' '${input}'`]);
    const points = pointsOf(input, 4);
    await runJob(input, sorted, maps, reducer, points); // warm-up: the workers are long-lived
    const runs: Run[] = [];
    for (let i = 0; i < reps; i++) runs.push(await runJob(input, sorted, maps, reducer, points, i === reps - 1 ? arg('profile') : undefined));
    const pick = (f: (r: Run) => number) => r3(median(runs.map(f)));
    console.log(
      JSON.stringify({
        mib: bytes / MIB,
        maps,
        reducer,
        map_cpu_s: pick((r) => r.map),
        map_children_cpu_s: pick((r) => r.mapChildren),
        reduce_cpu_s: pick((r) => r.reduce),
        reduce_children_cpu_s: pick((r) => r.reduceChildren),
        runs: runs.map((r) => [r3(r.map), r3(r.reduce)]),
        output: runs.every((r) => r.same) ? 'same as LC_ALL=C sort' : 'DIFFERS',
        load: readFileSync('/proc/loadavg', 'latin1').split(' ')[0],
      }),
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
