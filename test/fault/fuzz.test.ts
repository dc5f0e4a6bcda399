/**
 * Fuzzed submissions and task messages, in-process against a private emulator: random
 * and malformed manifests (uploaded, then announced by an S3 event), random S3 event and
 * follow-up bodies, and random task-queue messages thrown at the coordinator
 * (handleSubmission) and the task runner (handleTaskMessage). Properties:
 * - nothing throws but a transient error (the queue redelivers it), or DoNotRetryError for
 *   a body the parser refuses (not a JSON object, a follow-up with invalid names: the
 *   handler drops it with a log line);
 * - every outcome that names a job leaves that job with a status: FAILED with a non-empty
 *   reason when refused, RUNNING (or CREATING with its plan continuation queued) when created;
 * - an uploaded manifest always gets a job record, and a task message never creates one.
 * Fixed seed and a bounded number of cases in CI; MR_FUZZ_RUNS (and MR_FUZZ_SEED) for more.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DoNotRetryError, isTransient } from '../../core/errors.js';
import { isValidJobId } from '../../core/model.js';
import type { Services } from '../../services/context.js';
import { handleSubmission, type SubmissionOutcome } from '../../services/coordinator.js';
import { parseTaskMessage } from '../../services/task-lifecycle.js';
import { parseSubmissionMessages } from '../../services/trigger-messages.js';
import { FileCache } from '../../worker/attempt-dir.js';
import { Heartbeat } from '../../worker/heartbeat.js';
import { handleTaskMessage } from '../../worker/task-runner.js';
import { usePrivateNamespace } from '../helpers/emulators.js';

const runs = Number(process.env.MR_FUZZ_RUNS ?? 30);
const seed = Number(process.env.MR_FUZZ_SEED ?? 17);
const options = { numRuns: runs, seed, endOnFailure: true };
/** A case takes up to ~0.5 s on a loaded machine; MR_FUZZ_RUNS may ask for thousands. */
const timeout = 60_000 + runs * 1_000;

let counter = 0;
const freshJobId = () => `fz-${Date.now().toString(36)}-${counter++}`;

const s3Event = (bucket: string, key: string) =>
  JSON.stringify({ Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: bucket }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/') } } }] });

/** Call `f`; an error other than a transient one (or `allowed`) fails the property. */
async function survives<T>(f: () => Promise<T>, allowed: (err: unknown) => boolean = () => false): Promise<T | undefined> {
  try {
    return await f();
  } catch (err) {
    if (isTransient(err) || allowed(err)) return undefined;
    throw new Error(`not transient: ${(err as Error).name}: ${(err as Error).message}`, { cause: err });
  }
}

/** Every outcome naming a job left that job with a status (and a reason when refused). */
async function expectFinalStatus(s: Services, outcomes: readonly SubmissionOutcome[]): Promise<void> {
  for (const o of outcomes) {
    if (o.outcome === 'ignored' || o.outcome === 'waiting') continue;
    expect(isValidJobId(o.jobId), `job id ${JSON.stringify(o.jobId)}`).toBe(true);
    const job = await s.jobs.get(o.jobId);
    expect(job, `${o.outcome} ${o.jobId}`).toBeDefined();
    if (o.outcome === 'rejected') {
      expect(job!.status).toBe('FAILED');
      expect(job!.reason?.trim()).toBeTruthy();
    } else if (o.outcome === 'created') {
      expect(job!.status).toBe('RUNNING');
    } else if (o.outcome === 'planning') {
      expect(job!.status).toBe('CREATING');
    }
  }
}

const anyText = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.json({ maxDepth: 4 }),
  fc.tuple(fc.json(), fc.nat(20)).map(([j, cut]) => j.slice(0, Math.max(0, j.length - cut))),
  fc.nat(2000).map((d) => `${'{"a":'.repeat(d)}1${'}'.repeat(d)}`),
);

describe('fuzz: coordinator and task runner', () => {
  const env = usePrivateNamespace();

  async function seedInput(s: Services): Promise<string> {
    const bucket = s.names.bucket;
    await s.blobs.putBytes(bucket, 'in/a.txt', 'one two\nthree\n');
    return bucket;
  }

  it('every uploaded manifest, however malformed, ends as a job or a FAILED record with a reason', async () => {
    const s = env.s;
    const bucket = await seedInput(s);
    const valid = { input: `s3://${bucket}/in/`, output: `s3://${bucket}/out/x/`, mapper: 'cat', reducer: 'cat', numReducers: 1 };
    const fields = [...Object.keys(valid), 'env', 'jobconf', 'name', 'splitSize', 'numMappers', 'combiner', 'partitioner'];
    const mutated = fc
      .tuple(
        fc.dictionary(fc.constantFrom(...fields), fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.string(), fc.constant(`s3://${bucket}/in/`)), { maxKeys: 3 }),
        fc.subarray(Object.keys(valid), { maxLength: 2 }),
        fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 }),
      )
      .map(([replaced, removed, extra]) => {
        const m: Record<string, unknown> = { ...valid, ...extra, ...replaced };
        for (const k of removed) delete m[k];
        return JSON.stringify(m);
      });
    const manifests = fc.oneof({ arbitrary: mutated, weight: 3 }, { arbitrary: anyText, weight: 1 }, { arbitrary: fc.constant(JSON.stringify(valid)), weight: 1 });
    await fc.assert(
      fc.asyncProperty(manifests, fc.boolean(), async (text, redeliver) => {
        const jobId = freshJobId();
        const key = `jobs/${jobId}/job.json`;
        await s.blobs.putBytes(bucket, key, text);
        const outcomes = (await survives(() => handleSubmission(s, s3Event(bucket, key)))) ?? [];
        // A redelivered event meets the record the first one left.
        const again = redeliver ? ((await survives(() => handleSubmission(s, s3Event(bucket, key)))) ?? []) : [];
        await expectFinalStatus(s, [...outcomes, ...again]);
        const job = await s.jobs.get(jobId);
        expect(job, `no record for manifest ${text.slice(0, 200)}`).toBeDefined();
        expect(['RUNNING', 'CREATING', 'FAILED']).toContain(job!.status);
        if (job!.status === 'FAILED') expect(job!.reason?.trim()).toBeTruthy();
      }),
      options,
    );
  }, timeout);

  it('random S3 event bodies and follow-ups crash nothing and leave no job without a status', async () => {
    const s = env.s;
    const bucket = await seedInput(s);
    const segment = fc.oneof(fc.string({ maxLength: 20 }), fc.stringMatching(/^[A-Za-z0-9._-]{1,12}$/), fc.constantFrom('..', '.', '', '%', '%zz', '+', 'a%2Fb'));
    const key = fc.oneof(
      segment.map((id) => `jobs/${id}/job.json`),
      fc.tuple(segment, segment).map(([p, b]) => `incoming/${p}/${b}/_READY`),
      fc.string({ maxLength: 60 }),
    );
    const record = fc.record(
      {
        eventSource: fc.oneof(fc.constant('aws:s3'), fc.constant('aws:s3'), fc.jsonValue({ maxDepth: 1 })),
        s3: fc.oneof(
          fc.record({ bucket: fc.record({ name: fc.oneof(fc.constant(bucket), fc.string({ maxLength: 10 })) }), object: fc.record({ key: fc.oneof(key, key.map(encodeURIComponent)) }) }),
          fc.jsonValue({ maxDepth: 2 }),
        ),
      },
      { requiredKeys: [] },
    );
    const followUp = fc.oneof(
      fc.record({ kind: fc.constant('plan'), jobId: fc.oneof(segment, fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: [] }),
      fc.record({ kind: fc.constant('ready'), pipeline: segment, batch: segment, deadline: fc.oneof(fc.double(), fc.integer(), fc.constant(0)) }, { requiredKeys: [] }),
    );
    const body = fc.oneof(
      fc.array(record, { maxLength: 3 }).map((Records) => JSON.stringify({ Records })),
      followUp.map((f) => JSON.stringify(f)),
      anyText,
    );
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const notAnObject = () => {
          try {
            parseSubmissionMessages(b);
            return false;
          } catch {
            return true;
          }
        };
        const outcomes = (await survives(() => handleSubmission(s, b), (err) => err instanceof DoNotRetryError && notAnObject())) ?? [];
        await expectFinalStatus(s, outcomes);
      }),
      {
        ...options,
        examples: [
          [JSON.stringify({ kind: 'plan', jobId: '' })],
          [JSON.stringify({ kind: 'ready', pipeline: '..', batch: '', deadline: 0 })],
          [JSON.stringify({ kind: 'ready', pipeline: 'p', batch: 'b', deadline: Number.MAX_VALUE })],
          [s3Event(bucket, 'jobs/%zz/job.json')],
        ],
      },
    );
  }, timeout);

  it('random task messages crash no worker and never make or strand a job', async () => {
    const s = env.s;
    const bucket = await seedInput(s);
    const realJob = freshJobId();
    const manifestKey = `jobs/${realJob}/job.json`;
    await s.blobs.putBytes(bucket, manifestKey, JSON.stringify({ input: `s3://${bucket}/in/`, output: `s3://${bucket}/out/${realJob}/`, mapper: 'cat', reducer: 'cat', numReducers: 1 }));
    expect(await handleSubmission(s, s3Event(bucket, manifestKey))).toMatchObject([{ outcome: 'created', jobId: realJob }]);

    const scratch = await mkdtemp(path.join(tmpdir(), 'mr-fuzz-'));
    const workerId = 'fuzz-worker';
    const deps = {
      s,
      workerId,
      heartbeat: new Heartbeat(s, workerId),
      files: new FileCache(s.blobs, scratch),
      settings: { sortBufferBytes: 1 << 20, scratchDir: scratch },
      shutdown: new AbortController().signal,
    };
    const id = fc.oneof(fc.constant(realJob), fc.string({ maxLength: 20 }), fc.stringMatching(/^[A-Za-z0-9._-]{1,16}$/));
    const taskId = fc.oneof(fc.constantFrom('m-00000', 'r-00000', 'm-00001', 'r-99999', ''), fc.string({ maxLength: 12 }));
    const message = fc.oneof(
      fc.record({ jobId: id, taskId, backup: fc.oneof(fc.constant(true), fc.jsonValue({ maxDepth: 1 })) }, { requiredKeys: ['jobId', 'taskId'] }).map((m) => JSON.stringify(m)),
      fc.record({ jobId: fc.jsonValue({ maxDepth: 1 }), taskId: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }).map((m) => JSON.stringify(m)),
      anyText.filter((t) => t.length > 0),
    );
    try {
      await fc.assert(
        fc.asyncProperty(message, async (body) => {
          // Through the real queue, so that deletes and visibility changes use a real receipt handle.
          await s.taskQueue.sendAll([body]);
          let msg = await s.taskQueue.receiveOne(1);
          while (msg && msg.body !== body) {
            await s.taskQueue.setVisibility(msg.receiptHandle, 300); // a plan message: out of the way
            msg = await s.taskQueue.receiveOne(1);
          }
          expect(msg).toBeDefined();
          await survives(() => handleTaskMessage(deps, msg!));
          // A message naming a job that does not exist never creates it (nor any task of it).
          const named = parseTaskMessage(body);
          if (named && named.jobId !== realJob && named.jobId !== '' && named.taskId !== '') {
            expect(await s.jobs.get(named.jobId)).toBeUndefined();
            expect(await s.tasks.get(named.jobId, named.taskId)).toBeUndefined();
          }
          const job = await s.jobs.get(realJob);
          expect(['RUNNING', 'SUCCEEDED', 'FAILED']).toContain(job?.status);
          if (job?.status === 'FAILED') expect(job.reason?.trim()).toBeTruthy();
        }),
        {
          ...options,
          examples: [
            [JSON.stringify({ jobId: '', taskId: '' })],
            [JSON.stringify({ jobId: realJob, taskId: '' })],
            [JSON.stringify({ jobId: realJob, taskId: 'nope', backup: true })],
            [JSON.stringify({ jobId: 'x'.repeat(2000), taskId: 'm-00000' })],
          ],
        },
      );
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }, timeout);
});
