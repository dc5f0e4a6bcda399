/**
 * A job's end stops its running tasks through their leases (services/job-end.ts): a cancel
 * (or a job failure) cancels the PENDING tasks and marks the RUNNING ones, and the next
 * lease extension of a marked task is refused with JobEndedError, not LeaseLostError, while
 * a task of another job extends as before. Also the map output items a commit writes
 * beside its task, which reducers list. Seeded state in an isolated namespace, against the
 * emulator: the same conditional writes as on DynamoDB, no worker, nothing timed.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { isErrorNamed, type StaleStateError } from '../../core/errors.js';
import { newJobId, type TaskRecord } from '../../core/model.js';
import { cancelJob } from '../../services/cancel.js';
import type { Services } from '../../services/context.js';
import { endJob } from '../../services/job-end.js';
import { usePrivateNamespace } from '../helpers/emulators.js';
import { pendingTasks, runningJob } from '../helpers/seed-records.js';

describe("a job's end refuses its running tasks' next lease extension", () => {
  const T = Date.now();
  const env = usePrivateNamespace(() => T);
  let s: Services;

  beforeEach(() => {
    s = env.s;
  });

  /** A RUNNING job of 3 map tasks: m-00000 committed, m-00001 running (returned), m-00002 PENDING. */
  async function seed(jobId: string) {
    await s.jobs.create(runningJob(jobId, 3, 0, T));
    await s.tasks.putNew(pendingTasks(jobId, 'map', 3));
    const done = await s.tasks.claim(jobId, 'm-00000', 'w0', T, 10_000);
    await s.tasks.commit({ jobId, taskId: 'm-00000', owner: 'w0', attempt: done.attempt, startedAt: T }, T, { output: { key: 'tmp/x', offsets: [0, 3] }, counters: {} });
    const run = await s.tasks.claim(jobId, 'm-00001', 'w1', T, 10_000);
    return { jobId, taskId: 'm-00001', owner: 'w1', attempt: run.attempt, startedAt: T };
  }

  const refusal = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as StaleStateError<TaskRecord>);

  it('cancel: PENDING cancelled, RUNNING marked; its extension refused as JobEndedError; another job is untouched', async () => {
    const ref = await seed(newJobId());
    const other = await seed(newJobId());
    await s.tasks.heartbeat(ref, T + 1, 10_000); // extends before the cancel

    await cancelJob(s, ref.jobId, { where: 'the test namespace', now: () => T + 2 });
    const byId = new Map((await s.tasks.list(ref.jobId)).map((t) => [t.taskId, t]));
    expect(byId.get('m-00000')).toMatchObject({ status: 'COMMITTED' });
    expect(byId.get('m-00000')?.jobEnded).toBeUndefined();
    expect(byId.get('m-00001')).toMatchObject({ status: 'RUNNING', owner: 'w1', jobEnded: 'CANCELLED' });
    expect(byId.get('m-00002')).toMatchObject({ status: 'CANCELLED', jobEnded: 'CANCELLED' });

    const err = await refusal(s.tasks.heartbeat(ref, T + 3, 10_000));
    expect(isErrorNamed(err, 'JobEndedError'), String(err)).toBe(true);
    expect(err?.current).toMatchObject({ status: 'RUNNING', owner: 'w1', jobEnded: 'CANCELLED' });
    // The attempt's own cancel (fenced on owner and attempt) still holds: it ends `cancelled`.
    await s.tasks.cancelAttempt(ref, T + 4);
    expect(await s.tasks.get(ref.jobId, ref.taskId)).toMatchObject({ status: 'CANCELLED' });

    await expect(s.tasks.heartbeat(other, T + 3, 10_000)).resolves.toBeUndefined();
  });

  it('a job failure (endJob) marks the same way; a lost lease is still LeaseLostError', async () => {
    const ref = await seed(newJobId());
    expect(await endJob(s, ref.jobId, 'FAILED', 'Task m-00002 failed', new Date(T + 2).toISOString())).toBe(true);
    expect(await endJob(s, ref.jobId, 'FAILED', 'again', new Date(T + 3).toISOString())).toBe(false);
    const ended = await refusal(s.tasks.heartbeat(ref, T + 3, 10_000));
    expect(isErrorNamed(ended, 'JobEndedError'), String(ended)).toBe(true);
    // On a task no job end marked, a refused extension (another attempt owns it) is a lost lease.
    const live = await seed(newJobId());
    const lost = await refusal(s.tasks.heartbeat({ ...live, attempt: live.attempt + 1 }, T + 3, 10_000));
    expect(isErrorNamed(lost, 'LeaseLostError'), String(lost)).toBe(true);
  });

  it("a map commit writes its output item beside its task: listMapOutputs reads the committed maps only", async () => {
    const ref = await seed(newJobId());
    expect(await s.tasks.listMapOutputs(ref.jobId)).toEqual([{ taskId: 'm-00000', index: 0, status: 'COMMITTED', output: { key: 'tmp/x', offsets: [0, 3] } }]);
    expect((await s.tasks.listMapTasks(ref.jobId)).map((t) => `${t.taskId}:${t.status}`)).toEqual(['m-00000:COMMITTED', 'm-00001:RUNNING', 'm-00002:PENDING']);
  });
});
