/**
 * `wordcount_e2e` and `cpu_per_mib` (issue 14): word count as a user runs it. A warm
 * `mapreduce local up` stack (started with bin/mapreduce.js, like a user), then per rep
 * `mapreduce run -i <dir> -o <dir> -m wordcount.ts -c wordcount.ts -r wordcount.ts -R 2`
 * as a child process, timed from spawn to exit: bundling, any upload, the job, the
 * download of the part files. The anchor is the single process on the same files.
 *
 * CPU comes from /proc: the workers (children of `local up`, with their exited
 * children), the emulator (the process listening on the endpoint's port), the `local up`
 * process itself (coordinator, checker) and the CLI (with esbuild), each as the
 * difference over the run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DeleteObjectsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createClients, destroyClients } from '../../aws/clients.js';
import { localResourceNames } from '../../core/resources.js';
import { cutAtLines } from './corpus.js';
import { childPids, pidListeningOn, procCpuSeconds, timedWithCpu } from './processes.js';
import { type BenchOptions, diffCounts } from './results.js';

/** The corpus as an input directory of `files` files cut at line ends (written once, reused). */
export function ensureInputDir(corpus: string, files: number): string[] {
  const dir = `${corpus.replace(/\.txt$/, '')}-dir${files}`;
  const names = Array.from({ length: files }, (_, i) => path.join(dir, `part-${String(i).padStart(3, '0')}.txt`));
  const size = statSync(corpus).size;
  if (existsSync(dir) && names.reduce((n, f) => n + (existsSync(f) ? statSync(f).size : 0), 0) === size) return names;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const data = readFileSync(corpus);
  cutAtLines(data, files).forEach(([start, end], i) => writeFileSync(names[i]!, data.subarray(start, end)));
  return names.filter((f) => existsSync(f));
}

/** A `mapreduce local up` child process and what the benchmark reads of it. */
export class LocalUp {
  private constructor(
    readonly child: ChildProcess,
    readonly prefix: string,
    readonly env: NodeJS.ProcessEnv,
    readonly endpoint: string,
  ) {}

  static async start(o: BenchOptions, cli: string, prefix: string, stateDir: string): Promise<LocalUp> {
    const env = { ...process.env, MR_STATE_DIR: stateDir };
    const args = [cli, 'local', 'up', '--workers', String(o.workers), '--prefix', prefix, '--endpoint', o.endpoint];
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`\`mapreduce local up\` did not come up in 180 s:\n${out}`)), 180_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        if (out.includes('is up')) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', onData);
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`\`mapreduce local up\` exited ${code}:\n${out}`));
      });
    });
    return new LocalUp(child, prefix, env, o.endpoint);
  }

  /** CPU seconds so far of the workers, the emulator, and the `local up` process. */
  cpu(): { workers: number; emulator: number; stack: number } {
    const pid = this.child.pid!;
    const emulator = pidListeningOn(Number(new URL(this.endpoint).port));
    const workers = childPids(pid).filter((p) => p !== emulator);
    return {
      workers: workers.reduce((n, p) => n + procCpuSeconds(p, { children: true }), 0),
      emulator: emulator ? procCpuSeconds(emulator) : 0,
      stack: procCpuSeconds(pid),
    };
  }

  /** Delete what the runs stored in the stack's bucket (uploaded input, output), outside the timed runs. */
  async emptyBucket(): Promise<void> {
    const bucket = localResourceNames(this.prefix).bucket;
    const c = createClients({ endpoint: this.endpoint, region: 'us-east-1' });
    try {
      for (;;) {
        const listed = await c.s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
        const keys = (listed.Contents ?? []).map((x) => ({ Key: x.Key! }));
        if (keys.length === 0) break;
        await c.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
      }
    } finally {
      destroyClients(c);
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    const timeout = setTimeout(() => this.child.kill('SIGKILL'), 60_000);
    await exited;
    clearTimeout(timeout);
  }
}

export interface E2eRun {
  readonly seconds: number;
  /** CPU seconds over the run, by process group. */
  readonly cpu: { workers: number; emulator: number; stack: number; cli: number };
}

/** One timed `mapreduce run` from `files`' directory into a fresh local directory; throws if its counts differ. */
export async function runE2e(up: LocalUp, cli: string, module: string, files: string[], outDir: string, expected: string): Promise<E2eRun> {
  rmSync(outDir, { recursive: true, force: true });
  const before = up.cpu();
  const mod = module;
  const args = [cli, 'run', '-i', path.dirname(files[0]!), '-o', outDir, '-m', mod, '-c', mod, '-r', mod, '-R', '2'];
  const t = await timedWithCpu(process.execPath, [...args, '--prefix', up.prefix, '--endpoint', up.endpoint], { env: up.env });
  const after = up.cpu();
  const output = readdirSync(outDir)
    .filter((f) => f.startsWith('part-'))
    .map((f) => readFileSync(path.join(outDir, f), 'utf8'))
    .join('');
  rmSync(outDir, { recursive: true, force: true });
  const d = diffCounts(expected, output);
  if (d) throw new Error(`\`mapreduce run\` word count differs from the single process on the same files: ${d}`);
  await up.emptyBucket();
  return {
    seconds: t.seconds,
    cpu: {
      workers: after.workers - before.workers,
      emulator: after.emulator - before.emulator,
      stack: after.stack - before.stack,
      cli: t.cpuSeconds,
    },
  };
}
