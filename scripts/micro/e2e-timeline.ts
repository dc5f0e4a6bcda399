/**
 * `node dist/scripts/micro/e2e-timeline.js --dir <input dir> [--jobs 3] [--endpoint URL] [--work-dir DIR]`:
 * the timeline of `wordcount_e2e`'s job as the benchmark runs it (scripts/bench/e2e.ts): a
 * warm `mapreduce local up` stack of 2 workers, then per job `mapreduce run -i <dir> -o <out>
 * -m/-c/-r wordcount.ts -R 2 --json`, timed from spawn. Prints, in ms from the spawn: the CLI's
 * JSON events as they arrive (submitted, ..., result) and its exit; each worker's tasks from
 * their JSON logs (claim → commit of each map and reduce); the phases (start: →
 * first map claim, maps: → last map commit, tail: the worker that finished its maps first,
 * idle until its reduce claim, handoff, reduce, finish: → the "Job succeeded" log line, cli: → CLI exit); and
 * the CPU seconds of the workers, the emulator and the CLI per job (the CLI's own also at its `submitted` event). Diagnosis only, not a
 * figure: the figures come from `npm run bench`.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { packageRoot } from '../../local/stack.js';
import { LocalUp } from '../bench/e2e.js';
import { procCpuSeconds } from '../bench/processes.js';
import type { BenchOptions } from '../bench/results.js';
import { arg as argOf, median } from './micro-support.js';

const arg = (name: string, dflt: string): string => argOf(name) ?? dflt;

interface CliRun {
  readonly jobId: string;
  readonly events: Array<{ ms: number; event: string }>;
  readonly exitMs: number;
  readonly cliCpu: number;
  /** The CLI's own CPU seconds when its `submitted` event arrived: the steadier figure of the submit path. */
  readonly cliCpuAtSubmit: number;
}

function runCli(cli: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const before = procCpuSeconds('self', { children: true }) - procCpuSeconds('self');
    const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const events: Array<{ ms: number; event: string }> = [];
    let jobId = '';
    let cliCpuAtSubmit = Number.NaN;
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        try {
          const e = JSON.parse(line) as { event?: string; jobId?: string; phase?: string; status?: string };
          if (e.jobId && !jobId) jobId = e.jobId;
          if (e.event === 'submitted' && Number.isNaN(cliCpuAtSubmit)) cliCpuAtSubmit = procCpuSeconds(child.pid!);
          events.push({ ms: Date.now() - t0, event: [e.event, e.status, e.phase].filter(Boolean).join(' ') });
        } catch {
          events.push({ ms: Date.now() - t0, event: line.slice(0, 60) });
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('close', (code) => {
      const exitMs = Date.now() - t0;
      const cliCpu = procCpuSeconds('self', { children: true }) - procCpuSeconds('self') - before;
      if (code !== 0) reject(new Error(`mapreduce run exited ${code}: ${err.slice(-2000)}`));
      else resolve({ jobId, events, exitMs, cliCpu: Math.round(cliCpu * 100) / 100, cliCpuAtSubmit });
    });
    // t0 is the spawn; the call log's lines are epoch ms, so keep it for them.
    (events as unknown as { t0: number }).t0 = t0;
  });
}

interface Task {
  task: string;
  claim: number;
  commit: number;
}

/**
 * Each worker's tasks of the job from the workers' JSON logs (`worker-N.log` under the state directory):
 * "Task claimed" and "Task committed" by timestamp, and the job's "Job succeeded".
 */
function tasksByWorker(stateDir: string, jobId: string, t0: number): { workers: Map<string, Task[]>; succeeded: number } {
  const byWorker = new Map<string, Task[]>();
  let succeeded = Number.NaN;
  const files = readdirSync(stateDir, { recursive: true, encoding: 'utf8' }).filter((f) => /worker-\d+\.log$/.test(f));
  for (const f of files) {
    for (const line of readFileSync(path.join(stateDir, f), 'utf8').split('\n')) {
      if (!line.includes(jobId)) continue;
      const e = JSON.parse(line) as { message?: string; timestamp?: string; workerId?: string; taskId?: string; jobId?: string };
      if (e.jobId !== jobId || !e.timestamp) continue;
      const ms = Date.parse(e.timestamp) - t0;
      if (e.message === 'Job succeeded') succeeded = ms;
      if (!e.taskId || !e.workerId) continue;
      const list = byWorker.get(e.workerId) ?? [];
      byWorker.set(e.workerId, list);
      if (e.message === 'Task claimed') list.push({ task: e.taskId, claim: ms, commit: Number.NaN });
      if (e.message === 'Task committed') {
        const t = list.findLast((y) => y.task === e.taskId);
        if (t) t.commit = ms;
      }
    }
  }
  return { workers: byWorker, succeeded };
}

async function main(): Promise<void> {
  const dir = path.resolve(arg('dir', ''));
  if (!arg('dir', '')) throw new Error('--dir <input directory> is required');
  const jobs = Number(arg('jobs', '3'));
  const endpoint = arg('endpoint', process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566');
  const workDir = path.resolve(arg('work-dir', path.join(os.tmpdir(), 'mapreduce-e2e-timeline')));
  mkdirSync(workDir, { recursive: true });
  const root = packageRoot();
  const cli = path.join(root, 'bin', 'mapreduce.js');
  const module = path.join(root, 'examples', 'wordcount', 'wordcount.ts');
  const stateDir = path.join(workDir, `state-${randomBytes(4).toString('hex')}`);
  const o = { workers: 2, endpoint } as BenchOptions;
  const up = await LocalUp.start(o, cli, `e2etl-${randomBytes(3).toString('hex')}`, stateDir);
  const phases: Array<Record<string, number>> = [];
  try {
    const warm = path.join(workDir, 'warm');
    mkdirSync(warm, { recursive: true });
    writeFileSync(path.join(warm, 'a.txt'), 'a b c\nb c\n');
    const jobArgs = (input: string, out: string) => [
      'run', '-i', input, '-o', out, '-m', module, '-c', module, '-r', module, '-R', '2', '--json', '--prefix', up.prefix, '--endpoint', up.endpoint,
    ];
    rmSync(path.join(workDir, 'warm-out'), { recursive: true, force: true });
    await runCli(cli, jobArgs(warm, path.join(workDir, 'warm-out')), up.env);
    await up.emptyBucket();
    for (let j = 0; j < jobs; j++) {
      const out = path.join(workDir, 'out');
      rmSync(out, { recursive: true, force: true });
      const before = up.cpu();
      const spawnAt = Date.now();
      const r = await runCli(cli, jobArgs(dir, out), up.env);
      const after = up.cpu();
      const t0 = (r.events as unknown as { t0?: number }).t0 ?? spawnAt;
      const { workers, succeeded: done } = tasksByWorker(stateDir, r.jobId, t0);
      const all = [...workers.values()].flat();
      const maps = all.filter((t) => t.task.startsWith('m-'));
      const reduces = all.filter((t) => t.task.startsWith('r-'));
      const submitted = r.events.find((e) => e.event.startsWith('submitted'))?.ms ?? Number.NaN;
      const firstClaim = Math.min(...maps.map((t) => t.claim));
      const lastMap = Math.max(...maps.map((t) => t.commit));
      const lastMapByWorker = [...workers.values()].map((l) => Math.max(...l.filter((t) => t.task.startsWith('m-')).map((t) => t.commit)));
      const lastReduceClaim = Math.max(...reduces.map((t) => t.claim));
      const lastReduce = Math.max(...reduces.map((t) => t.commit));
      const p: Record<string, number> = {
        submit: submitted,
        start: firstClaim - submitted,
        maps: lastMap - firstClaim,
        tail: lastMap - Math.min(...lastMapByWorker),
        handoff: lastReduceClaim - lastMap,
        reduce: lastReduce - lastReduceClaim,
        finish: done - lastReduce,
        cli: r.exitMs - done,
        total: r.exitMs,
      };
      phases.push(p);
      console.log(`\njob ${j} ${r.jobId}: ${r.exitMs} ms; CPU s: workers ${(after.workers - before.workers).toFixed(2)}, emulator ${(after.emulator - before.emulator).toFixed(2)}, stack ${(after.stack - before.stack).toFixed(2)}, cli ${r.cliCpu} (${r.cliCpuAtSubmit.toFixed(2)} to submitted); load ${os.loadavg()[0]!.toFixed(2)}`);
      console.log(`  cli events: ${r.events.map((e) => `${e.ms} ${e.event}`).join(' | ')} | ${r.exitMs} exit`);
      for (const [pid, list] of workers) console.log(`  worker ${pid}: ${list.map((t) => `${t.task}@${t.claim}-${t.commit} (${t.commit - t.claim})`).join(' ')}`);
      console.log(`  _SUCCESS at ${done}; phases (ms): ${Object.entries(p).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      await up.emptyBucket();
    }
  } finally {
    await up.stop();
  }
  const keys = Object.keys(phases[0] ?? {});
  console.log(`\nphase medians (ms) over ${phases.length} jobs: ${keys.map((k) => `${k} ${median(phases.map((p) => p[k]!))}`).join(', ')}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
