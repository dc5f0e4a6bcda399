/**
 * Stragglers (speculative backup attempts, first commit wins), on the emulator with real
 * worker processes. One map task's first attempt sleeps SLOW_SECONDS before reading its
 * input (a 20× straggler: the other attempts take well under a second and a half); a
 * backup attempt of it is posted by the checker, and whichever attempt commits first wins.
 *
 * - straggler: with speculation the job ends long before the straggler's sleep would, the
 *   backup won (SPECULATIVE_WINS = 1), the primary is `superseded`; without it (the job's
 *   `speculative: false`) the job waits for the straggler. Output byte-identical to a clean run.
 * - race: both attempts are held at their commit until both are there (COMMIT_BARRIER_ENV),
 *   then commit together: one wins, the other is refused, counters are not doubled.
 * - kill: the loser is SIGKILLed while it runs, the winner right after its commit
 *   (AFTER_COMMIT_ENV); the job still completes with identical output.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import { type JobRecord, taskId } from '../../core/model.js';
import { Counters, counterKey, FRAMEWORK } from '../../core/reporter.js';
import { committedStats } from '../../core/speculation.js';
import { tmpPrefix } from '../../core/layout.js';
import { AFTER_COMMIT_ENV, attemptTempKeys, COMMIT_BARRIER_ENV } from '../../worker/backup-attempt.js';
import { startFaultStack } from '../helpers/emulators.js';
import { expectIdenticalParts, INDEX_REDUCER, putScript, sortedCounters, syntheticText } from '../helpers/index-job.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';
import { exited, signalWorker } from '../helpers/worker-processes.js';
import type { TestStack } from '../helpers/stack.js';

/**
 * INDEX_MAPPER, but the first attempt of map task SLOW_TASK sleeps SLOW_SECONDS first, and
 * its later attempts BACKUP_SECONDS (default 0).
 */
const STRAGGLER_MAPPER = `#!/bin/sh
export LC_ALL=C
if [ "$mapreduce_task_partition" = "\${SLOW_TASK:-none}" ]; then
  if [ "$MR_ATTEMPT" = "1" ]; then sleep "$SLOW_SECONDS"; else sleep "\${BACKUP_SECONDS:-0}"; fi
fi
awk '{ for (i = 1; i <= NF; i++) print $i "\\t" NR }'
`;

const SLOW_INDEX = 5;
const SLOW_TASK = taskId('map', SLOW_INDEX);
const MAPS = 8;
const WIN = counterKey(FRAMEWORK, Counters.SPECULATIVE_WINS);
const LAUNCHED = counterKey(FRAMEWORK, Counters.SPECULATIVE_ATTEMPTS);

/** Counters without the speculation ones: they must equal a clean run's. */
function workCounters(job: JobRecord): Record<string, number> {
  const c = sortedCounters(job);
  delete c[WIN];
  delete c[LAUNCHED];
  return c;
}

interface Fixture {
  t: TestStack;
  base: Omit<ManifestInput, 'output'>;
  clean: Buffer[];
  cleanJob: JobRecord;
}

/** A 3-worker stack, the job's files, and a clean run as the reference. */
async function setUp(name: string, workerEnv: Record<string, string> = {}): Promise<Fixture> {
  // A private emulator: the race needs DynamoDB's one-at-a-time conditional writes (see privateEmulator).
  // 400 ms heartbeats (2 s leases, 6 s minimum run before a backup): on a loaded machine a
  // 1 s lease is lost between beats, and a backup that loses its lease just ends.
  const t = await startFaultStack({ workers: 3, workerEnv, timings: { heartbeatMs: 400 } });
  const files = [
    await putScript(t, `code/${name}/straggler_map.sh`, STRAGGLER_MAPPER),
    await putScript(t, `code/${name}/index_reduce.sh`, INDEX_REDUCER),
  ];
  const base = {
    // ~1 MB in 8 splits of ~120 KB, under what the mapper's stdin socket buffers (~210 KB):
    // a mapper sleeping before it reads has its whole split handed over, so its progress
    // reads 1 while it sleeps (the bench run where no backup was posted, core/speculation.ts).
    input: await t.putInput(`in/${name}/`, { 'words.txt': syntheticText(24_000) }),
    mapper: 'straggler_map.sh',
    reducer: 'index_reduce.sh',
    files,
    numMappers: MAPS,
    numReducers: 2,
  } as Omit<ManifestInput, 'output'>;
  const output = `s3://${t.bucket}/out/${name}-clean/`;
  const cleanJob = await finish(t, await t.submit({ ...base, output } as ManifestInput));
  expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
  expect(cleanJob.counters[LAUNCHED] ?? 0).toBe(0);
  return { t, base, clean: await t.readParts(output, 2), cleanJob };
}

/** Seconds the job ran, from its creation to its end. */
const seconds = (job: JobRecord) => (Date.parse(job.finishedAt ?? job.updatedAt) - Date.parse(job.createdAt)) / 1000;

/**
 * Every attempt that lost a race (`superseded`) deleted its temp objects (map output, live
 * log) under tmp/<job>/, and every task's committed output is still there. Returns the
 * number of superseded attempts. The loser deletes as it settles, which may be just after
 * the job ends: waited for, up to 20 s.
 */
/** Keeps a succeeded job's tmp/ objects (mapreduce.task.files.preserve.filepattern). */
const KEEP_TMP = { 'mapreduce.task.files.preserve.filepattern': '.*' };

async function expectLoserObjectsGone(t: TestStack, jobId: string): Promise<number> {
  const tasks = await t.s.tasks.list(jobId, 'map');
  const losers = tasks.flatMap((task) =>
    (task.history ?? []).filter((h) => h.outcome === 'superseded').flatMap((h) => attemptTempKeys({ jobId, taskId: task.taskId, attempt: h.attempt }, 'map')),
  );
  const left = await waitFor(
    'the losers\' temp objects deleted',
    async () => {
      const keys = new Set((await t.s.blobs.list(t.bucket, tmpPrefix(jobId))).map((o) => o.key));
      const stale = losers.filter((k) => keys.has(k));
      return stale.length === 0 ? keys : undefined;
    },
    { timeoutMs: 20_000 },
  );
  for (const task of tasks) expect(left, `${task.taskId}'s committed output`).toContain(task.output!.key);
  return losers.length / 2;
}

async function straggling(t: TestStack, jobId: string) {
  const task = (await t.s.tasks.list(jobId, 'map')).find((x) => x.taskId === SLOW_TASK)!;
  return { task, history: [...(task.history ?? [])].sort((a, b) => a.attempt - b.attempt) };
}

describe('a 20x straggler map attempt', () => {
  let f: Fixture;
  const SLOW_SECONDS = 40;

  beforeAll(async () => {
    f = await setUp('straggler');
  });
  afterAll(async () => {
    saveWorkerLogs(f?.t, 'speculation-straggler');
    await f?.t.stop();
  });

  it('with speculation: a backup commits first, the job ends before the straggler would, output identical', async () => {
    const { t, base, clean, cleanJob } = f;
    const output = `s3://${t.bucket}/out/straggler-on/`;
    const env = { SLOW_TASK: String(SLOW_INDEX), SLOW_SECONDS: String(SLOW_SECONDS) };
    // The key keeps the job's tmp/ after success, so the losers' own deletes can be checked.
    const job = await finish(t, await t.submit({ ...base, output, env, jobconf: KEEP_TMP } as ManifestInput));
    expect(job.status, job.reason).toBe('SUCCEEDED');
    expect(seconds(job)).toBeLessThan(SLOW_SECONDS);
    expect(workCounters(job)).toEqual(workCounters(cleanJob));
    expectIdenticalParts(await t.readParts(output, 2), clean, 'output with a speculative backup');

    const { task, history } = await straggling(t, job.jobId);
    expect(task).toMatchObject({ status: 'COMMITTED', committedAttempt: 2, backupAttempt: 2, failures: 0, stalls: 0 });
    expect(history.map((h) => [h.attempt, h.outcome, h.backup ?? false])).toEqual([
      [1, 'superseded', false],
      [2, 'committed', true],
    ]);
    // The loser was stopped by its refused heartbeat, long before its sleep would have ended.
    expect(history[0]!.endedAt - history[0]!.startedAt).toBeLessThan(SLOW_SECONDS * 1000 / 2);
    // The counters match the records: on a loaded machine other tasks may be slow enough
    // for a backup too, but each backup claimed counts once, and each backup win once.
    const all = await t.s.tasks.list(job.jobId);
    const wins = all.filter((x) => x.history?.some((h) => h.backup && h.outcome === 'committed')).length;
    expect(job.counters[LAUNCHED]).toBe(all.filter((x) => x.backupClaimedAt !== undefined).length);
    expect(job.counters[WIN]).toBe(wins);
    expect(wins).toBeGreaterThanOrEqual(1);
    expect(all.every((x) => x.history?.filter((h) => h.outcome === 'committed').length === 1)).toBe(true);
    expect(await expectLoserObjectsGone(t, job.jobId)).toBeGreaterThanOrEqual(1);
  });

  it('without speculation (speculative: false): the job waits for the straggler, output identical', async () => {
    const { t, base, clean, cleanJob } = f;
    const output = `s3://${t.bucket}/out/straggler-off/`;
    const env = { SLOW_TASK: String(SLOW_INDEX), SLOW_SECONDS: '12' };
    const job = await finish(t, await t.submit({ ...base, output, env, speculative: false } as ManifestInput));
    expect(job.status, job.reason).toBe('SUCCEEDED');
    expect(seconds(job)).toBeGreaterThanOrEqual(12);
    expect(job.counters[LAUNCHED] ?? 0).toBe(0);
    expect(workCounters(job)).toEqual(workCounters(cleanJob));
    expectIdenticalParts(await t.readParts(output, 2), clean, 'output without speculation');
    const { task, history } = await straggling(t, job.jobId);
    expect(task.backupAttempt).toBeUndefined();
    expect(history.map((h) => [h.attempt, h.outcome])).toEqual([[1, 'committed']]);
  });
});

describe('primary and backup commit at the same instant', () => {
  let f: Fixture;
  const barrier = mkdtempSync(path.join(os.tmpdir(), 'mr-barrier-'));

  beforeAll(async () => {
    f = await setUp('race', { [COMMIT_BARRIER_ENV]: `${SLOW_TASK}@${barrier}` });
  });
  afterAll(async () => {
    saveWorkerLogs(f?.t, 'speculation-race');
    await f?.t.stop();
    rmSync(barrier, { recursive: true, force: true });
  });

  it('one commit wins, the other is refused and superseded; output identical, counters not doubled', async () => {
    const { t, base, clean, cleanJob } = f;
    const output = `s3://${t.bucket}/out/race/`;
    // Slow enough for the backup to be posted and reach its commit first, then wait for the primary.
    const env = { SLOW_TASK: String(SLOW_INDEX), SLOW_SECONDS: '16' };
    // The key keeps the job's tmp/ after success, so the losers' own deletes can be checked.
    const job = await finish(t, await t.submit({ ...base, output, env, jobconf: KEEP_TMP } as ManifestInput));
    expect(job.status, job.reason).toBe('SUCCEEDED');
    // Both attempts reached the barrier: the commits were sent together.
    expect(readdirSync(barrier).sort()).toEqual([`${SLOW_TASK}.1`, `${SLOW_TASK}.2`]);

    const { task, history } = await straggling(t, job.jobId);
    const outcomes = history.map((h) => h.outcome).sort();
    expect(outcomes).toEqual(['committed', 'superseded']);
    const winner = history.find((h) => h.outcome === 'committed')!;
    expect(task.committedAttempt).toBe(winner.attempt);
    expect(task.backupClaimedAt).toBeDefined();
    const all = await t.s.tasks.list(job.jobId);
    expect(job.counters[LAUNCHED]).toBe(all.filter((x) => x.backupClaimedAt !== undefined).length);
    expect(job.counters[WIN] ?? 0).toBe(all.filter((x) => x.history?.some((h) => h.backup && h.outcome === 'committed')).length);
    expect(winner.backup ?? false).toBe(task.committedAttempt === task.backupAttempt);
    expect(job.mapsCommitted).toBe(MAPS);
    // The map phase's sums (speculation's reference) hold each task's winning attempt once.
    const winners = all.filter((x) => x.kind === 'map').map((x) => x.history!.find((h) => h.outcome === 'committed')!);
    expect(committedStats(job, 'map')).toMatchObject({ count: MAPS, sumMs: winners.reduce((a, h) => a + h.endedAt - h.startedAt, 0) });
    expect(workCounters(job)).toEqual(workCounters(cleanJob));
    expectIdenticalParts(await t.readParts(output, 2), clean, 'output after a commit race');
    // Both attempts had uploaded their map output before the barrier: the loser's is deleted.
    expect(await expectLoserObjectsGone(t, job.jobId)).toBeGreaterThanOrEqual(1);
  });
});

describe('the loser SIGKILLed mid-run and the winner right after its commit', () => {
  let f: Fixture;
  const marks = mkdtempSync(path.join(os.tmpdir(), 'mr-commits-'));

  beforeAll(async () => {
    f = await setUp('spec-kill', { [AFTER_COMMIT_ENV]: marks });
  });
  afterAll(async () => {
    saveWorkerLogs(f?.t, 'speculation-kill');
    await f?.t.stop();
    rmSync(marks, { recursive: true, force: true });
  });

  it('the job completes with identical output', async () => {
    const { t, base, clean, cleanJob } = f;
    const output = `s3://${t.bucket}/out/spec-kill/`;
    // The backup sleeps 3 s too: the loser is killed while the backup runs, not after.
    const env = { SLOW_TASK: String(SLOW_INDEX), SLOW_SECONDS: '40', BACKUP_SECONDS: '3' };
    const jobId = await t.submit({ ...base, output, env } as ManifestInput);
    const slowTask = async () => (await t.s.tasks.list(jobId, 'map')).find((x) => x.taskId === SLOW_TASK);
    const detail = async () => `job ${(await t.s.jobs.get(jobId))?.status}, task ${JSON.stringify(await slowTask())}`;

    // The primary sleeps, yet its whole split was handed over: the score that once kept the checker from posting.
    const primary = await waitFor('the straggler\'s first attempt running with its whole split read', async () => {
      const task = await slowTask();
      const whole = task?.progressTotal !== undefined && (task.progress ?? 0) >= task.progressTotal;
      return task?.status === 'RUNNING' && task.attempt === 1 && task.owner && whole ? task : undefined;
    }, { detail });
    // The backup claimed (or, on a slow poll, already committed and paused at the hook below).
    const running = await waitFor('a claimed backup of the straggler', async () => {
      const task = await slowTask();
      return task?.backupAttempt !== undefined && (task.backupOwner || task.status === 'COMMITTED') ? task : undefined;
    }, { detail });
    expect(running.backupAttempt).toBe(2);
    // Kill the primary (the loser) in the middle of its attempt.
    const loser = signalWorker(t, primary.owner!, 'SIGKILL');
    await exited(loser);

    // The backup committed and paused: kill it before it deletes its message or advances the job.
    const mark = path.join(marks, `committed-${SLOW_TASK}.${running.backupAttempt}`);
    const winnerPid = Number(await waitFor('the backup commit', () => { try { return readFileSync(mark, 'utf8') || undefined; } catch { return undefined; } }));
    const winner = t.stack.workerProcesses.find((c) => c.pid === winnerPid)!;
    expect(winner.kill('SIGKILL')).toBe(true);
    await exited(winner);
    expect([loser.signalCode, winner.signalCode]).toEqual(['SIGKILL', 'SIGKILL']);
    t.stack.spawnWorker();
    t.stack.spawnWorker();

    const job = await finish(t, jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const { task } = await straggling(t, jobId);
    expect(task).toMatchObject({ status: 'COMMITTED', committedAttempt: running.backupAttempt });
    expect(job.counters[WIN]).toBeGreaterThanOrEqual(1);
    expect(workCounters(job)).toEqual(workCounters(cleanJob));
    expectIdenticalParts(await t.readParts(output, 2), clean, 'output after killing both attempts');
  });
});
