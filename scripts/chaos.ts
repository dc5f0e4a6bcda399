/**
 * Chaos runs: K runs of one multi-task job on a local stack while worker processes
 * are SIGKILLed at random times and replaced (as ECS replaces a dead task). Each
 * run's part files must be byte-identical to a clean run of the same job; prints
 * `K/K identical` and exits 0 when they all are, non-zero otherwise.
 *
 *   npm run build && node dist/scripts/chaos.js [--runs 10] [--workers 3] [--seed 1]
 *       [--max-kills 3] [--endpoint http://127.0.0.1:4566] [--keep-logs] [--speculation]
 *       [--job index|terasort]
 *
 * --steps: the job has 3 steps (a multi-step job, core/steps.ts): the inverted index, then
 * words grouped by count (a sleeping swap mapper), then `cat` (the free identity mapper)
 * with the index reducer again, so kills land in every step and on step changes.
 *
 * --job terasort: a total-order sort of TeraGen records instead (scripts/chaos-terasort.ts).
 *
 * --speculation: in each run the first attempts of one or two random map tasks also sleep
 * a random 12-20 s (stragglers, over 10x a task), on splits of ~270 KB (a sleeping
 * mapper's stdin still takes ~210 KB of it, so its progress reads 0.8-1; the checker's
 * rule backs it up either way, core/speculation.ts), so backups are launched, win, lose and get killed along with everything
 * else (kills are spread over the longer run; 400 ms heartbeats). Each run prints the backups launched and won (SPECULATIVE_ATTEMPTS / _WINS), and
 * the totals line says how many runs had a backup.
 *
 * --net-faults: the workers' AWS traffic goes through a seeded fault proxy (AWS errors,
 * latency spikes, resets before the answer and mid-body, black-holes; scripts/chaos-net.ts)
 * while the killer runs as usual; leases are 5 s (NET_FAULT_TIMINGS).
 *
 * Without --endpoint it starts a private emulator on a free port (local/emulator.ts)
 * and stops it at the end, so the runs neither disturb nor depend on a shared one.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SHORT_TIMINGS, type Timings } from '../core/config.js';
import { partName } from '../core/model.js';
import { LocalStack } from '../local/stack.js';
import { ensureEmulator } from '../local/emulator.js';
import { mulberry32 as prng } from '../core/prng.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import { NET_FAULT_TIMINGS, type NetFaults, startNetFaults } from './chaos-net.js';
import { readPartFiles, runJobUnderKills, submitJob, waitForJobEnd } from './chaos-jobs.js';
import { freePort } from '../local/free-port.js';
import { teraSortChaos } from './chaos-terasort.js';
import { INDEX_REDUCER, wordText } from './index-reducer.js';

/** `word<TAB>line-number-within-split` per word; sleeps first so kills land mid-task. */
const MAPPER = `#!/bin/sh
export LC_ALL=C
sleep "\${MAP_SLEEP:-0}"
case " \${SLOW_TASKS:-} " in *" $mapreduce_task_partition "*) if [ "$MR_ATTEMPT" = "1" ]; then sleep "$SLOW_SECONDS"; fi ;; esac
awk '{ for (i = 1; i <= NF; i++) print $i "\\t" NR }'
`;

/** Step 2 of --steps: `word<TAB>count<TAB>lines` → `count<TAB>word`, after MAP_SLEEP. */
const SWAP_MAPPER = `#!/bin/sh
export LC_ALL=C
sleep "\${MAP_SLEEP:-0}"
awk -F '\\t' '{ print $2 "\\t" $1 }'
`;

const TIMINGS: Timings = SHORT_TIMINGS;
/** How long one job of a run may take before the run is an error. */
const JOB_TIMEOUT_MS = 180_000;
/**
 * --speculation: 400 ms heartbeats as in test/fault/speculation.test.ts (a 2 s lease, so a
 * backup may start once an attempt ran 6 s): 200 ms beats lose leases on a loaded machine,
 * and a backup that loses its lease just ends.
 */
const SPECULATION_TIMINGS: Timings = { ...SHORT_TIMINGS, heartbeatMs: 400 };

/** One or two of the 6 map tasks, slowed 12-20 s on their first attempt (a task takes ~1 s). */
function randomSlowdown(rnd: () => number): { SLOW_TASKS: string; SLOW_SECONDS: string } {
  const first = Math.floor(rnd() * 6);
  const tasks = rnd() < 0.5 ? [first] : [first, (first + 1 + Math.floor(rnd() * 5)) % 6];
  return { SLOW_TASKS: tasks.join(' '), SLOW_SECONDS: (12 + rnd() * 8).toFixed(1) };
}

// Node 20 is supported on purpose (as in bin/mapreduce.js); silence the SDK's upgrade nag.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** Where a part differs from the clean one: first differing line, and the word totals. */
function describeDiff(got: Buffer, want: Buffer, i: number): string {
  const a = got.toString('latin1').split('\n');
  const b = want.toString('latin1').split('\n');
  const total = (ls: string[]) => ls.reduce((n, l) => n + (Number(l.split('\t')[1]) || 0), 0);
  const at = a.findIndex((l, j) => l !== b[j]);
  const show = (l: string | undefined) => JSON.stringify(l?.slice(0, 120));
  return `${partName(i)}: ${total(a)} vs ${total(b)} words; line ${at + 1}: ${show(a[at])} vs ${show(b[at])}`;
}

interface RunResult {
  readonly run: number;
  readonly identical: boolean;
  readonly status: string;
  readonly kills: number;
  readonly stalls: number;
  readonly seconds: number;
  readonly backupsLaunched: number;
  readonly backupsWon: number;
  readonly detail?: string;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      workers: { type: 'string', default: '3' },
      seed: { type: 'string' },
      'max-kills': { type: 'string', default: '3' },
      endpoint: { type: 'string' },
      'keep-logs': { type: 'boolean', default: false },
      speculation: { type: 'boolean', default: false },
      'net-faults': { type: 'boolean', default: false },
      job: { type: 'string', default: 'index' },
      steps: { type: 'boolean', default: false },
    },
  });
  if (values.job !== 'index' && values.job !== 'terasort') throw new Error(`--job: expected index or terasort, got "${values.job}"`);
  const runs = Number(values.runs);
  const workers = Number(values.workers);
  // At most maxAttempts - 1 kills per run, so no task can run out of attempts from stalls alone.
  const timings = values.speculation ? SPECULATION_TIMINGS : TIMINGS;
  const maxKills = Math.min(Number(values['max-kills']), timings.maxAttempts - 1);
  const seed = values.seed !== undefined ? Number(values.seed) : Date.now() % 1_000_000;
  const rnd = prng(seed);
  const endpoint = values.endpoint ?? `http://127.0.0.1:${await freePort()}`;
  if (values.job === 'terasort') {
    const common = { runs, workers, maxKills, seed, endpoint, startEmulator: values.endpoint === undefined, timings: TIMINGS };
    return teraSortChaos({ ...common, keepLogs: values['keep-logs'] });
  }
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mr-chaos-'));
  console.log(
    `chaos: ${runs} runs, ${workers} workers, up to ${maxKills} SIGKILLs per run, seed ${seed}, ` +
      `${values.endpoint ? 'emulator' : 'private emulator'} ${endpoint}, logs in ${stateDir}`,
  );

  // --net-faults: the proxy needs the emulator up before the workers start behind it.
  const emulator = values['net-faults'] && values.endpoint === undefined ? await ensureEmulator({ endpoint }) : undefined;
  const net: NetFaults | undefined = values['net-faults'] ? await startNetFaults(endpoint, seed) : undefined;
  const stack = await LocalStack.start({
    endpoint,
    startEmulator: values.endpoint === undefined && !emulator,
    prefix: `chaos-${randomBytes(4).toString('hex')}`,
    workers,
    timings: net ? { ...timings, ...NET_FAULT_TIMINGS } : timings,
    stateDir,
    ...(net ? { workerEnv: net.workerEnv } : {}),
  });
  const s = stack.services;
  const bucket = stack.names.bucket;
  let failed = true;
  try {
    // Speculation: ~1.6 MB, splits of ~270 KB; else 600 lines (tasks that only sleep and die).
    const input = wordText(values.speculation ? 40_000 : 600, 42);
    await s.blobs.putBytes(bucket, 'in/words.txt', input);
    await s.blobs.putBytes(bucket, 'code/index_map.sh', MAPPER);
    await s.blobs.putBytes(bucket, 'code/index_reduce.sh', INDEX_REDUCER);
    await s.blobs.putBytes(bucket, 'code/swap_map.sh', SWAP_MAPPER);
    const steps = values.steps
      ? {
          steps: [
            { mapper: 'index_map.sh', reducer: 'index_reduce.sh' },
            { mapper: 'swap_map.sh', reducer: 'index_reduce.sh', numReducers: 2 },
            { mapper: 'cat', reducer: 'index_reduce.sh' },
          ],
        }
      : { mapper: 'index_map.sh', reducer: 'index_reduce.sh' };
    const manifest = (output: string, slow: Record<string, string> = {}) => ({
      input: `s3://${bucket}/in/`,
      output,
      ...steps,
      files: [`s3://${bucket}/code/index_map.sh`, `s3://${bucket}/code/index_reduce.sh`, `s3://${bucket}/code/swap_map.sh`],
      numMappers: 6,
      numReducers: 3,
      env: { MAP_SLEEP: '0.6', REDUCE_SLEEP: '0.6', ...slow },
    });
    const submit = (output: string, slow?: Record<string, string>) => submitJob(stack, manifest(output, slow));
    const readParts = (prefix: string) => readPartFiles(stack, prefix, 3);

    const t0 = Date.now();
    const cleanJob = await waitForJobEnd(stack, await submit(`s3://${bucket}/out/clean/`), JOB_TIMEOUT_MS);
    if (cleanJob.status !== 'SUCCEEDED') throw new Error(`the clean run failed: ${cleanJob.reason}`);
    const clean = await readParts('out/clean/');
    // The reference itself must be right: every word of the input counted once.
    const words = input.toString('latin1').split(/\s+/).filter(Boolean).length;
    const counted = clean.reduce(
      (n, p) => n + p.toString('latin1').split('\n').reduce((m, l) => m + (Number(l.split('\t')[1]) || 0), 0),
      0,
    );
    // A 3-step job's last step counts words per count, not words: its reference is checked by test/pipeline/multi-step.test.ts.
    if (!values.steps && counted !== words) {
      const tasks = await s.tasks.list(cleanJob.jobId);
      const brief = tasks.map((t) => [t.taskId, t.status, t.attempt, t.owner, t.output]);
      throw new Error(
        `the clean run counted ${counted} of ${words} words: ` +
          `counters ${JSON.stringify(cleanJob.counters)}, tasks ${JSON.stringify(brief)}`,
      );
    }
    const cleanBytes = clean.reduce((n, p) => n + p.length, 0);
    console.log(`clean run: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${cleanBytes} bytes`);

    const results: RunResult[] = [];
    for (let run = 1; run <= runs; run++) {
      const started = Date.now();
      const prefix = `out/run-${run}/`;
      const slow = values.speculation ? randomSlowdown(rnd) : undefined;
      const jobId = await submit(`s3://${bucket}/${prefix}`, slow);
      // With stragglers the job runs ~20 s: spread the kills over it (backups get killed too).
      const { job, kills } = await runJobUnderKills(stack, jobId, JOB_TIMEOUT_MS, { rnd, maxKills, spread: values.speculation ? 4 : 1 });
      const tasks = await s.tasks.list(jobId);
      const stalls = tasks.reduce((n, t) => n + t.stalls, 0);
      const backupsLaunched = job.counters[counterKey(FRAMEWORK, Counters.SPECULATIVE_ATTEMPTS)] ?? 0;
      const backupsWon = job.counters[counterKey(FRAMEWORK, Counters.SPECULATIVE_WINS)] ?? 0;
      const backups = `${backupsLaunched} backup(s), ${backupsWon} won${slow ? ` (slowed: map ${slow.SLOW_TASKS} by ${slow.SLOW_SECONDS} s)` : ''}`;
      let identical = false;
      let detail: string | undefined;
      if (job.status === 'SUCCEEDED') {
        const parts = await readParts(prefix);
        const differing = parts.map((p, i) => (p.equals(clean[i] as Buffer) ? -1 : i)).filter((i) => i >= 0);
        identical = differing.length === 0;
        if (!identical) {
          const diffs = differing.map((i) => describeDiff(parts[i] as Buffer, clean[i] as Buffer, i));
          detail = `parts differ: ${diffs.join('; ')}`;
        }
      } else {
        detail = job.reason;
      }
      const r: RunResult = {
        run,
        identical,
        status: job.status,
        kills,
        stalls,
        seconds: (Date.now() - started) / 1000,
        backupsLaunched,
        backupsWon,
        detail,
      };
      results.push(r);
      console.log(
        `run ${String(run).padStart(2)}: ${r.status}, ${r.kills} kill(s), ${r.stalls} stalled task(s) redone, ${backups}, ` +
          `${r.seconds.toFixed(1)} s: ${r.identical ? 'identical' : `DIFFERENT (${r.detail})`}`,
      );
    }
    const ok = results.filter((r) => r.identical).length;
    const totalKills = results.reduce((n, r) => n + r.kills, 0);
    const totalStalls = results.reduce((n, r) => n + r.stalls, 0);
    console.log(`${totalKills} SIGKILLs, ${totalStalls} stalled tasks reclaimed and redone`);
    if (net) console.log(net.describe());
    if (values.speculation) {
      const launched = results.reduce((n, r) => n + r.backupsLaunched, 0);
      const won = results.reduce((n, r) => n + r.backupsWon, 0);
      const withBackup = results.filter((r) => r.backupsLaunched > 0).length;
      console.log(`${launched} backups launched, ${won} won; ${withBackup}/${runs} runs had a backup`);
    }
    console.log(`${ok}/${runs} identical`);
    failed = ok !== runs;
    return failed ? 1 : 0;
  } finally {
    await stack.stop();
    await net?.close();
    await emulator?.stop();
    if (failed || values['keep-logs']) console.log(`worker logs kept in ${stateDir}`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(err);
    process.exitCode = 2;
  },
);
