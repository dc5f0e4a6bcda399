/**
 * `chaos --job terasort`: K runs of a total-order sort of TeraGen records (identity
 * mapper and reducer that first sleep, so kills land mid-task; R = 4) while worker
 * processes are SIGKILLed at random times and replaced. Each run must pass the
 * TeraValidate-style check (global order across the parts, record count and CRC-32 sum
 * of the input) and equal the clean run byte for byte (which itself equals
 * `LC_ALL=C sort` of the input). Prints `K/K identical`.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Timings } from '../core/config.js';
import { mulberry32 as prng } from '../core/prng.js';
import { LocalStack } from '../local/stack.js';
import { readPartFiles, runJobUnderKills, submitJob, waitForJobEnd } from './chaos-jobs.js';
import { RECORD_BYTES, TeraValidator, teraProblem, teraRecords } from './bench/teragen.js';

/** `cat`, after a sleep so that a kill can land while the task runs. */
const SLEEPY_CAT = `#!/bin/sh
sleep "\${STEP_SLEEP:-0}"
exec cat
`;
const R = 4;
const RECORDS = 30_000;
const INPUT_OBJECTS = 6;
/** How long one job of a run may take before the run is an error. */
const JOB_TIMEOUT_MS = 240_000;

export interface TeraChaosOptions {
  readonly runs: number;
  readonly workers: number;
  readonly maxKills: number;
  readonly seed: number;
  readonly endpoint: string;
  readonly startEmulator: boolean;
  readonly timings: Timings;
  readonly keepLogs: boolean;
}

/** Returns the exit code: 0 when every run is identical to the clean one. */
export async function teraSortChaos(o: TeraChaosOptions): Promise<number> {
  const rnd = prng(o.seed);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'mr-chaos-tera-'));
  console.log(`chaos terasort: ${o.runs} runs, ${o.workers} workers, up to ${o.maxKills} SIGKILLs per run, seed ${o.seed}, ${RECORDS} records, logs in ${stateDir}`);
  const stack = await LocalStack.start({
    endpoint: o.endpoint,
    startEmulator: o.startEmulator,
    prefix: `chaos-${randomBytes(4).toString('hex')}`,
    workers: o.workers,
    timings: o.timings,
    stateDir,
  });
  const s = stack.services;
  const bucket = stack.names.bucket;
  let failed = true;
  try {
    const input = teraRecords(o.seed, 0, RECORDS);
    const per = Math.ceil(RECORDS / INPUT_OBJECTS) * RECORD_BYTES;
    for (let i = 0; i * per < input.length; i++) await s.blobs.putBytes(bucket, `in/tera-${i}.txt`, input.subarray(i * per, (i + 1) * per));
    await s.blobs.putBytes(bucket, 'code/sleepy_cat.sh', SLEEPY_CAT);
    const inSummary = (() => {
      const v = new TeraValidator();
      v.push(input, 'input');
      return v.result();
    })();
    const submit = (output: string): Promise<string> =>
      submitJob(stack, {
        input: `s3://${bucket}/in/`,
        output: `s3://${bucket}/${output}`,
        mapper: 'sleepy_cat.sh',
        reducer: 'sleepy_cat.sh',
        files: [`s3://${bucket}/code/sleepy_cat.sh`],
        numReducers: R,
        splitSize: Math.ceil(per / 2),
        env: { STEP_SLEEP: '0.6' },
        jobconf: { 'mapreduce.job.partitioner.class': 'TotalOrderPartitioner' },
      });
    const readParts = async (prefix: string): Promise<Buffer> => Buffer.concat(await readPartFiles(stack, prefix, R));
    const check = (out: Buffer): string | undefined => {
      const v = new TeraValidator();
      v.push(out, 'parts');
      return teraProblem(inSummary, v.result());
    };

    const t0 = Date.now();
    const cleanJob = await waitForJobEnd(stack, await submit('out/clean/'), JOB_TIMEOUT_MS);
    if (cleanJob.status !== 'SUCCEEDED') throw new Error(`the clean run failed: ${cleanJob.reason}`);
    const clean = await readParts('out/clean/');
    const cleanProblem = check(clean);
    if (cleanProblem) throw new Error(`the clean run is wrong: ${cleanProblem}`);
    const gnu = execFileSync('sort', [], { input, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });
    if (!clean.equals(gnu)) throw new Error('the clean run differs from LC_ALL=C sort of the input');
    console.log(`clean run: ${((Date.now() - t0) / 1000).toFixed(1)} s, ${cleanJob.numMaps} maps, valid and equal to LC_ALL=C sort`);

    let identical = 0;
    for (let run = 1; run <= o.runs; run++) {
      const started = Date.now();
      const prefix = `out/run-${run}/`;
      const jobId = await submit(prefix);
      const { job, kills } = await runJobUnderKills(stack, jobId, JOB_TIMEOUT_MS, { rnd, maxKills: o.maxKills });
      let verdict: string;
      if (job.status !== 'SUCCEEDED') verdict = `${job.status}: ${job.reason}`;
      else {
        const out = await readParts(prefix);
        verdict = check(out) ?? (out.equals(clean) ? 'identical' : 'valid but DIFFERENT bytes from the clean run');
      }
      if (verdict === 'identical') identical++;
      const stalls = (await s.tasks.list(jobId)).reduce((n, t) => n + t.stalls, 0);
      console.log(`run ${String(run).padStart(2)}: ${job.status}, ${kills} kill(s), ${stalls} stalled task(s) redone, ${((Date.now() - started) / 1000).toFixed(1)} s: ${verdict}`);
    }
    console.log(`${identical}/${o.runs} identical`);
    failed = identical !== o.runs;
    return failed ? 1 : 0;
  } finally {
    await stack.stop();
    if (failed || o.keepLogs) console.log(`worker logs kept in ${stateDir}`);
    else rmSync(stateDir, { recursive: true, force: true });
  }
}
