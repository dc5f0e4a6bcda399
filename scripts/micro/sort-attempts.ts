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
 *     dist/scripts/micro/sort-attempts.js [--size 64M] [--maps 4] [--reps 3] [--reducer CMD] [--sort-buffer 64M]
 *     [--profile map|reduce --profile-out file.cpuprofile]   # V8 CPU profile of that phase of the last run
 *
 * Not a test and not part of `npm run bench`: note `uptime` with the figures.
 */
import { spawnSync } from 'node:child_process';
import { Session } from 'node:inspector/promises';
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TaskItem } from '../../aws/task-store.js';
import { ManifestSchema } from '../../core/manifest.js';
import type { AcceptedJob } from '../../core/model.js';
import { splitPoints } from '../../core/total-order.js';
import { attemptInput, type AttemptResult } from '../../worker/attempt.js';
import { runMapAttempt } from '../../worker/map-task.js';
import { runReduceAttempt } from '../../worker/reduce-task.js';
import { KEY_BYTES, RECORD_BYTES, writeTeraFile } from '../bench/teragen.js';
import { arg, BUCKET, cpuChildren, cpuSelf, localServices, median, MIB, parseSize } from './micro-support.js';

/** CPU seconds of this process and of its reaped children. */
function cpu(): { self: number; children: number } {
  return { self: cpuSelf(), children: cpuChildren() };
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
        settings: { sortBufferBytes: parseSize(arg('sort-buffer') ?? '64M'), scratchDir: dir },
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
