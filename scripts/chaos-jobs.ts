/**
 * The chaos scripts' job plumbing (scripts/chaos.ts, scripts/chaos-terasort.ts): submit a
 * manifest, wait for the job to end, read its part files, and run a job while the killer
 * (scripts/chaos-killer.ts) SIGKILLs workers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { manifestKey } from '../core/layout.js';
import { type JobRecord, newJobId, partName } from '../core/model.js';
import type { LocalStack } from '../local/stack.js';
import { type KillerOptions, killWorkersWhileRunning } from './chaos-killer.js';

/** Submit a job the way a user does: its manifest under a new job id. Returns the id. */
export async function submitJob(stack: LocalStack, manifest: object): Promise<string> {
  const jobId = newJobId();
  await stack.services.blobs.putBytes(stack.names.bucket, manifestKey(jobId), JSON.stringify(manifest));
  return jobId;
}

/** The job record once it is SUCCEEDED, FAILED or CANCELLED; throws after `timeoutMs`. */
export async function waitForJobEnd(stack: LocalStack, jobId: string, timeoutMs: number): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await stack.services.jobs.get(jobId);
    if (job && (job.status === 'SUCCEEDED' || job.status === 'FAILED' || job.status === 'CANCELLED')) return job;
    if (Date.now() > deadline) {
      throw new Error(`job ${jobId} did not finish in ${timeoutMs / 1000} s (${job?.status}/${job?.phase})`);
    }
    await sleep(100);
  }
}

/** The bytes of parts 0 .. count-1 under `prefix` of the stack's bucket. */
export async function readPartFiles(stack: LocalStack, prefix: string, count: number): Promise<Buffer[]> {
  const parts: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const chunks: Buffer[] = [];
    for await (const c of await stack.services.blobs.getObject(stack.names.bucket, `${prefix}${partName(i)}`)) chunks.push(c as Buffer);
    parts.push(Buffer.concat(chunks));
  }
  return parts;
}

/** Wait for a submitted job to end while the killer runs; the killer stops when the job ends. */
export async function runJobUnderKills(
  stack: LocalStack,
  jobId: string,
  timeoutMs: number,
  killer: Omit<KillerOptions, 'stack' | 'jobId' | 'finished'>,
): Promise<{ job: JobRecord; kills: number }> {
  let finished = false;
  const jobDone = waitForJobEnd(stack, jobId, timeoutMs).finally(() => {
    finished = true;
  });
  const kills = killWorkersWhileRunning({ ...killer, stack, jobId, finished: () => finished });
  const job = await jobDone;
  return { job, kills: await kills };
}
