/**
 * Upload triggers on a real `mapreduce local up` process: jobs start from plain SDK
 * uploads (no CLI), repeated notifications create nothing new, and `local down`
 * stops the process and every worker it owns.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createClients, destroyClients } from '../../aws/clients.js';
import { manifestKey } from '../../core/layout.js';
import type { JobRecord } from '../../core/model.js';
import { localResourceNames, type ResourceNames } from '../../core/resources.js';
import { createServices, type Services } from '../../services/context.js';
import { BIN, cli, cliEnv } from '../helpers/cli.js';
import { prng, reference, WC_MAP, WC_REDUCE, words } from '../helpers/pipeline.js';
import { ENDPOINT, FAST_TIMINGS, REPO, sortedLines } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { isAlive } from '../../local/state.js';

/** Pids of the worker processes a process owns (`mapreduce.js worker` children). */
function workerChildren(pid: number): number[] {
  let out: string;
  try {
    out = execFileSync('ps', ['--ppid', String(pid), '-o', 'pid=,args='], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there are none
  }
  return out
    .split('\n')
    .filter((l) => /mapreduce\.js worker/.test(l))
    .map((l) => Number(l.trim().split(/\s+/)[0]));
}

describe('`mapreduce local up` started by upload triggers', () => {
  const prefix = `lu-${randomBytes(5).toString('hex')}`;
  let stateDir: string;
  let env: NodeJS.ProcessEnv;
  let up: ChildProcess;
  let upExit: Promise<number | null>;
  let stdout = '';
  let names: ResourceNames;
  let clients: AwsClients;
  let s: Services;
  let workers: number[] = [];

  const put = (key: string, body: string | Buffer) =>
    clients.s3.send(
      new PutObjectCommand({ Bucket: names.bucket, Key: key, Body: body, ContentLength: Buffer.byteLength(body) }),
    );

  const waitJob = (jobId: string) =>
    waitFor(
      `job ${jobId}`,
      async () => {
        const j = await s.jobs.get(jobId);
        return j && ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.status) ? j : undefined;
      },
      { timeoutMs: 120_000 },
    );

  /** Wait until the local coordinator has received and deleted every submission notification. */
  const submissionsDrained = async () => {
    const url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: names.submissionsQueue }))).QueueUrl;
    await waitFor('the submissions queue to drain', async () => {
      const a = (
        await clients.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        )
      ).Attributes;
      return a?.ApproximateNumberOfMessages === '0' && a.ApproximateNumberOfMessagesNotVisible === '0' ? true : undefined;
    });
  };

  const outputState = async (prefixKey: string) =>
    (await s.blobs.list(names.bucket, prefixKey)).map((o) => `${o.key}:${o.size}`);

  beforeAll(async () => {
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'mr-localup-'));
    env = cliEnv(stateDir, { AWS_ENDPOINT_URL: ENDPOINT });
    up = spawn(process.execPath, [BIN, 'local', 'up', '--workers', '2', '--prefix', prefix], {
      env,
      cwd: REPO,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    upExit = new Promise((resolve) => up.once('exit', (code) => resolve(code)));
    let stderr = '';
    up.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    up.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    await waitFor('"is up" from local up', async () => {
      if (up.exitCode !== null) throw new Error(`local up exited ${up.exitCode}: ${stderr}`);
      return /is up/.test(stdout) ? true : undefined;
    });
    names = localResourceNames(prefix);
    clients = createClients({ endpoint: ENDPOINT, region: 'us-east-1' });
    s = createServices(clients, names, FAST_TIMINGS);
    await put('code/wc_map.sh', readFileSync(WC_MAP));
    await put('code/wc_reduce.sh', readFileSync(WC_REDUCE));
  });

  afterAll(async () => {
    if (up && up.exitCode === null && up.signalCode === null) {
      await cli(['local', 'down', '--prefix', prefix], env, { timeoutMs: 60_000 }).catch(() => undefined);
      if (up.exitCode === null) up.kill('SIGKILL');
    }
    for (const pid of workers) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
    if (clients) destroyClients(clients);
    rmSync(stateDir, { recursive: true, force: true });
  });

  const files = (seed: number) => {
    const rand = prng(seed);
    return {
      'a.txt': Buffer.from(`${Array.from({ length: 50 }, () => words(rand, 6)).join('\n')}\n`),
      'b.txt': Buffer.from(`${Array.from({ length: 30 }, () => words(rand, 4)).join('\n')}\n`),
    };
  };
  const wcSteps = () => ({
    mapper: 'wc_map.sh',
    reducer: 'wc_reduce.sh',
    files: [`s3://${names.bucket}/code/wc_map.sh`, `s3://${names.bucket}/code/wc_reduce.sh`],
    numReducers: 2,
  });

  it('a manifest uploaded with the SDK runs; uploading it again creates no second job', async () => {
    const input = files(40);
    for (const [n, b] of Object.entries(input)) await put(`in/sdk/${n}`, b);
    const jobId = `sdk-${randomBytes(3).toString('hex')}`;
    const manifest = JSON.stringify({
      input: `s3://${names.bucket}/in/sdk/`,
      output: `s3://${names.bucket}/out/sdk/`,
      ...wcSteps(),
    });
    await put(manifestKey(jobId), manifest);
    const job = await waitJob(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    expect(await s.blobs.head(names.bucket, 'out/sdk/_SUCCESS')).toBeDefined();
    const parts = await Promise.all(['part-00000', 'part-00001'].map((p) => s.blobs.getText(names.bucket, `out/sdk/${p}`)));
    expect(sortedLines(parts.map((p) => Buffer.from(p)))).toEqual(sortedLines(reference(input, WC_MAP, WC_REDUCE)));

    const before = { job: await s.jobs.get(jobId), tasks: (await s.tasks.list(jobId)).length, out: await outputState('out/sdk/') };
    await put(manifestKey(jobId), manifest); // the same notification again
    await submissionsDrained();
    const after = { job: await s.jobs.get(jobId), tasks: (await s.tasks.list(jobId)).length, out: await outputState('out/sdk/') };
    expect(after).toEqual(before);
    expect((after.job as JobRecord).numMaps).toBe(2);
  });

  it('incoming/<pipeline>/<batch>/ + _READY runs the pipeline config as job <pipeline>.<batch>, once', async () => {
    const pipeline = 'wc';
    await put(
      `pipelines/${pipeline}.json`,
      JSON.stringify({ output: `s3://${names.bucket}/batches/${pipeline}`, ...wcSteps() }),
    );
    const input = files(41);
    for (const [n, b] of Object.entries(input)) await put(`incoming/${pipeline}/b1/${n}`, b);
    await put(`incoming/${pipeline}/b1/_READY`, '');
    const jobId = `${pipeline}.b1`;
    const job = await waitJob(jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    expect(job.manifest?.output).toBe(`s3://${names.bucket}/batches/${pipeline}/b1/`);
    expect(job.numMaps).toBe(2); // _READY itself is not input
    const out = `batches/${pipeline}/b1/`;
    expect(await s.blobs.head(names.bucket, `${out}_SUCCESS`)).toBeDefined();
    const parts = await Promise.all(['part-00000', 'part-00001'].map((p) => s.blobs.getText(names.bucket, `${out}${p}`)));
    expect(sortedLines(parts.map((p) => Buffer.from(p)))).toEqual(sortedLines(reference(input, WC_MAP, WC_REDUCE)));

    const before = { job: await s.jobs.get(jobId), out: await outputState(out) };
    await put(`incoming/${pipeline}/b1/_READY`, '');
    await submissionsDrained();
    expect({ job: await s.jobs.get(jobId), out: await outputState(out) }).toEqual(before);
  });

  it('`local down` stops the local-up process and every worker it owns', async () => {
    const stateFile = path.join(stateDir, `local-${prefix}.json`);
    const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; workers: number };
    expect(state.pid).toBe(up.pid);
    workers = workerChildren(state.pid);
    expect(workers).toHaveLength(2);
    expect(workers.every(isAlive)).toBe(true);

    const down = await cli(['local', 'down', '--prefix', prefix], env, { timeoutMs: 60_000 });
    expect(down.code, down.stderr).toBe(0);
    expect(down.stdout).toContain('stopped');
    expect(await upExit).toBe(0);
    expect(stdout).toContain('Stopping the local stack');
    expect(workers.filter(isAlive)).toEqual([]);
    expect(existsSync(stateFile)).toBe(false);
  });
});
