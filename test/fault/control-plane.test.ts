/**
 * The control plane dies mid-flight: SIGKILL of the `mapreduce local up` process (it hosts
 * the coordinator and the checker, and owns the workers) at three instants, held there by
 * the MR_TEST_CONTROL_BARRIER hook (services/control-barrier.ts), then a fresh `local up`.
 * The job must end SUCCEEDED with part files byte-identical to a clean run of the same job
 * on the restarted stack (and equal to `cat | map | sort | reduce`), and no process of the
 * killed stack may outlive it. Also: the stack replaces workers that die.
 */
import { readdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { manifestKey } from '../../core/layout.js';
import { LOG_EVENTS } from '../../core/log-events.js';
import type { JobRecord } from '../../core/model.js';
import { CONTROL_BARRIER_ENV, type ControlPoint } from '../../services/control-barrier.js';
import { cliEnv, Scratch } from '../helpers/cli.js';
import { expectNoStackProcesses, LocalUp, StackAccess, stackProcesses, stackWorkers, uniquePrefix } from '../helpers/local-up.js';
import { prng, reference, WC_MAP, WC_REDUCE, words } from '../helpers/pipeline.js';
import { sortedLines } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const NUM_REDUCERS = 2;
const input = (() => {
  const rand = prng(1717);
  const file = (lines: number) => Buffer.from(`${Array.from({ length: lines }, () => words(rand, 5)).join('\n')}\n`);
  return { 'a.txt': file(40), 'b.txt': file(30), 'c.txt': file(20) };
})();
/** Every map attempt sleeps first, so that a test can kill workers while maps run. */
const SLOW_MAP = '#!/bin/sh\nsleep 1\nexec ./wc_map.sh\n';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A scratch dir, a state dir and a stack's resources; the job's input and code uploaded. */
async function setUp(name: string) {
  const scratch = new Scratch();
  cleanups.push(() => scratch.remove());
  const prefix = uniquePrefix(name);
  cleanups.push(() => expectNoStackProcesses(prefix));
  return { scratch, prefix, stateDir: scratch.mkdir('state') };
}

async function upload(a: StackAccess, slowMap: boolean): Promise<void> {
  for (const [n, b] of Object.entries(input)) await a.blobs.putBytes(a.bucket, `in/${n}`, b);
  await a.blobs.putBytes(a.bucket, 'code/wc_map.sh', readFileSync(WC_MAP));
  await a.blobs.putBytes(a.bucket, 'code/wc_reduce.sh', readFileSync(WC_REDUCE));
  if (slowMap) await a.blobs.putBytes(a.bucket, 'code/slow_map.sh', SLOW_MAP);
}

/** Submit the word count by uploading its manifest, as an S3 trigger would. */
async function submit(a: StackAccess, name: string, slowMap = false): Promise<{ jobId: string; out: string }> {
  const jobId = `${name}-${randomBytes(3).toString('hex')}`;
  const out = `out/${jobId}/`;
  const code = ['wc_map.sh', 'wc_reduce.sh', ...(slowMap ? ['slow_map.sh'] : [])];
  const manifest = {
    input: `s3://${a.bucket}/in/`,
    output: `s3://${a.bucket}/${out}`,
    mapper: slowMap ? 'slow_map.sh' : 'wc_map.sh',
    reducer: 'wc_reduce.sh',
    files: code.map((f) => `s3://${a.bucket}/code/${f}`),
    numReducers: NUM_REDUCERS,
  };
  await a.blobs.putBytes(a.bucket, manifestKey(jobId), JSON.stringify(manifest));
  return { jobId, out };
}

async function parts(a: StackAccess, out: string): Promise<Buffer[]> {
  const keys = Array.from({ length: NUM_REDUCERS }, (_, i) => `${out}part-${String(i).padStart(5, '0')}`);
  return Promise.all(keys.map(async (k) => Buffer.from(await a.readText(k))));
}

async function expectSucceeded(a: StackAccess, jobId: string): Promise<JobRecord> {
  const job = await a.finishedJob(jobId, 90_000);
  expect(job.status, job.reason).toBe('SUCCEEDED');
  return job;
}

/** The state the barrier held the killed job in, checked before the restart. */
async function expectHeldAt(a: StackAccess, point: ControlPoint, jobId: string, out: string): Promise<void> {
  const job = (await a.jobs.get(jobId)) as JobRecord;
  if (point === 'planning') {
    expect(job.status).toBe('CREATING');
    // A plan of at most MAX_TASKS_WITH_JOB tasks is written in the job's create transaction,
    // marked written with it: the restart resumes at the sends.
    expect(job.tasksWritten).toBe(true);
    expect((await a.tasks.list(jobId)).length).toBe(Object.keys(input).length + NUM_REDUCERS);
  } else if (point === 'phase-change') {
    expect(job.phase).toBe('REDUCE');
    expect(job.reduceEnqueuedAt).toBeUndefined();
  } else {
    expect(job.phase).toBe('FINALIZING');
    expect(await a.blobs.head(a.bucket, `${out}_SUCCESS`)).toBeUndefined();
  }
}

describe('SIGKILL of the local stack process, then a restart', () => {
  it.each(['planning', 'phase-change', 'finishing'] as const)(
    'killed while %s: the job completes with output identical to a clean run; no process outlives the stack',
    async (point) => {
      const { prefix, stateDir, scratch } = await setUp(`kill-${point}`);
      const barrier = scratch.mkdir('barrier');
      const first = await LocalUp.start(prefix, cliEnv(stateDir, { [CONTROL_BARRIER_ENV]: `${point}@${barrier}` }), 2);
      cleanups.push(() => {
        first.child.kill('SIGKILL');
      });
      const a = new StackAccess(prefix);
      cleanups.push(() => a.close());
      await upload(a, false);
      const killed = await submit(a, `kill-${point}`);
      await waitFor(`a process at the ${point} barrier`, () =>
        readdirSync(barrier).some((f) => f.startsWith(`${point}.`)) ? true : undefined,
        { timeoutMs: 60_000 },
      );
      const before = stackProcesses(prefix);
      expect(before.length).toBeGreaterThanOrEqual(3); // local up and its 2 workers
      first.child.kill('SIGKILL');
      // Its workers stop with it (IPC channel closed), within a few seconds.
      await expectNoStackProcesses(prefix, 8000);
      await expectHeldAt(a, point, killed.jobId, killed.out);

      const second = await LocalUp.start(prefix, cliEnv(stateDir), 2);
      cleanups.push(async () => {
        await second.stop();
      });
      await expectSucceeded(a, killed.jobId);
      const clean = await submit(a, `clean-${point}`);
      await expectSucceeded(a, clean.jobId);
      const got = await parts(a, killed.out);
      expect(got).toEqual(await parts(a, clean.out));
      expect(sortedLines(got)).toEqual(sortedLines([reference(input, WC_MAP, WC_REDUCE)]));
      expect(await a.blobs.head(a.bucket, `${killed.out}_SUCCESS`)).toBeDefined();
    },
    150_000,
  );
});

describe('a supervised local stack', () => {
  it('replaces workers that all die mid-job (SIGKILL), and the job completes', async () => {
    const { prefix, stateDir } = await setUp('supervise');
    const up = await LocalUp.start(prefix, cliEnv(stateDir), 2, ['--verbose']);
    cleanups.push(async () => {
      await up.stop();
    });
    const a = new StackAccess(prefix);
    cleanups.push(() => a.close());
    await upload(a, true);
    const job = await submit(a, 'supervise', true);
    await a.until('a map task running', async () =>
      (await a.tasks.list(job.jobId, 'map')).some((t) => t.status === 'RUNNING') ? true : undefined,
    );
    const workers = stackWorkers(prefix, up.child.pid ?? -1);
    expect(workers).toHaveLength(2);
    for (const p of workers) process.kill(p, 'SIGKILL');

    await expectSucceeded(a, job.jobId);
    const replaced = (up.out.stderr.match(new RegExp(LOG_EVENTS.localWorkerReplaced, 'g')) ?? []).length;
    expect(up.out.stderr).toContain(LOG_EVENTS.localWorkerExited);
    expect(replaced).toBeGreaterThanOrEqual(2);
    const now = stackWorkers(prefix, up.child.pid ?? -1);
    expect(now).toHaveLength(2);
    expect(now.some((p) => workers.includes(p))).toBe(false);
    const got = await parts(a, job.out);
    expect(sortedLines(got)).toEqual(sortedLines([reference(input, WC_MAP, WC_REDUCE)]));
  }, 120_000);
});
