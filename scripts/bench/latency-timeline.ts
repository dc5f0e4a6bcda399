/**
 * `node dist/scripts/bench/latency-timeline.js [--jobs N] [--endpoint URL] [--work-dir DIR]`:
 * where a small job's fixed time goes. Runs the benchmark's 1 KiB latency job (module word
 * count, 1 reducer, warm stack with the `local up` timings) N times after a warm-up job and
 * prints, for each, the wall time from manifest upload to `_SUCCESS` and the workers' AWS
 * calls (MR_CALL_LOG) as a timeline relative to the upload; then the median. Diagnosis
 * only: `small_job_latency_ms_median` itself comes from `npm run bench`.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { bundleStepModule } from '../../cli/bundle.js';
import { packageRoot } from '../../local/stack.js';
import { BenchStack, putCode } from './bench-stack.js';

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
  const callLog = path.join(workDir, `calls-${randomBytes(4).toString('hex')}.log`);
  const b = await BenchStack.start({ workDir, endpoint, workers: 2, startEmulator: true }, { MR_CALL_LOG: callLog });
  const latencies: number[] = [];
  const workerCpu: number[] = [];
  const emulatorCpu: number[] = [];
  try {
    const code = await putCode(b, bundle, 'code/wordcount.mjs');
    const words = readFileSync(path.join(root, 'bench', 'wordlist.txt'), 'utf8').split('\n').slice(0, 200);
    let text = '';
    for (let i = 0; text.length < 1000; i++) text += `${words[i % words.length]}${i % 8 === 7 ? '\n' : ' '}`;
    await b.s.blobs.putBytes(b.bucket, 'in/small/small.txt', Buffer.from(`${text.trimEnd()}\n`));
    const mod = { module: 'wordcount.mjs' };
    for (let i = -1; i < jobs; i++) {
      const r = await b.run(
        { input: b.uri('in/small/'), output: b.uri(`out/latency-${i}/`), mapper: mod, combiner: mod, reducer: mod, files: [code], numReducers: 1 },
        10,
      );
      if (i < 0) continue;
      latencies.push(Math.round(r.seconds * 1000));
      workerCpu.push(Math.round(r.workerCpuSeconds * 1000));
      emulatorCpu.push(Math.round(r.emulatorCpuSeconds * 1000));
      const t0 = r.window[0];
      const job = r.job;
      console.log(`\njob ${i} ${r.jobId}: ${Math.round(r.seconds * 1000)} ms; created +${Date.parse(job.createdAt) - t0} started +${job.startedAt ? Date.parse(job.startedAt) - t0 : '-'} finished +${job.finishedAt ? Date.parse(job.finishedAt) - t0 : '-'}`);
      const lines = readFileSync(callLog, 'utf8').split('\n').filter((l) => l.includes(r.jobId));
      for (const l of lines) {
        const [ms, pid, svc, op, , task, what, , hb] = l.split(' ');
        console.log(`  +${String(Number(ms) - t0).padStart(5)} ${pid} ${svc} ${op} ${task} ${what}${hb === 'hb' ? ' hb' : ''}`);
      }
    }
  } finally {
    await b.stop();
  }
  const load = os.loadavg().map((x) => x.toFixed(2)).join(' ');
  console.log(`\nlatencies ${sorted(latencies).join(', ')} ms; median ${median(latencies)} ms; load ${load}`);
  console.log(`cpu ms per job (until _SUCCESS seen): workers median ${median(workerCpu)}, emulator median ${median(emulatorCpu)}`);
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
