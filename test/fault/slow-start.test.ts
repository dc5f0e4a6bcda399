/**
 * Issue 13, reduce slow-start (`mapreduce.job.reduce.slowstart.completedmaps` = 0.25, M = 4,
 * R = 1): the reducer is released after the first map commit and fetches committed map
 * outputs while a map still runs. The first map attempt to start blocks (a marker
 * directory, one winner), so the order is fixed:
 *
 *   worker A:  map mX attempt 1 ── blocked ─────────────── ✝ (test 1: SIGKILL)
 *   worker B/C: the 3 other maps ✓ ── reduce r0: fetch their 3 slices ── wait for mX ─ ✝ (test 2)
 *   test:      sees r0's reported shuffle bytes = the 3 committed slices' bytes, then kills
 *
 * Test 1 kills the map's worker: mX is re-run (attempt 2) and the waiting reducer fetches
 * only the attempt mX's commit names, never the killed attempt's key (the test leaves a
 * poisoned object there), and keeps everything it fetched before: its one attempt commits.
 * Test 2 kills the waiting reducer's worker: its task is reclaimed and the new attempt
 * refetches, with no map re-run. A third job is cancelled while its reducer waits: the
 * reducer stops. A fourth has two reducers holding the two workers left while the killed
 * map waits for a worker: a reducer must yield (worker/map-output-watch.ts). A two-step job
 * with slow-start in every step. Outputs are compared byte for byte with clean runs
 * without slow-start. Three workers, so in tests 1–3 the blocked map and the waiting reducer
 * never hold every worker.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobConfKeys } from '../../core/jobconf-keys.js';
import { mapOutputKey } from '../../core/layout.js';
import type { ManifestInput } from '../../core/manifest.js';
import type { TaskRecord } from '../../core/model.js';
import { cancelJob } from '../../services/cancel.js';
import { startFaultStack } from '../helpers/emulators.js';
import { countWords, expectIdenticalParts, INDEX_REDUCER, indexWordTotal, putScript, syntheticText } from '../helpers/index-job.js';
import { sortedLines, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';
import { exited, signalWorker } from '../helpers/worker-processes.js';

/** The index mapper; the first attempt to start (mkdir is atomic) waits for `$BLOCK_DIR/go` (60 s at most). */
const BLOCKING_MAPPER = `#!/bin/sh
export LC_ALL=C
if mkdir "$BLOCK_DIR/blocked" 2>/dev/null; then
  i=0
  while [ ! -e "$BLOCK_DIR/go" ] && [ "$i" -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
fi
awk '{ for (i = 1; i <= NF; i++) print $i "\\t" NR }'
`;

// No speculation: a backup of the blocked map would run on the idle worker and commit it.
const SLOWSTART = { [JobConfKeys.REDUCE_SLOWSTART]: '0.25', 'mapreduce.map.speculative': 'false' };

describe('reduce slow-start under SIGKILL', () => {
  let t: TestStack;
  let base: Omit<ManifestInput, 'output' | 'env'>;
  let clean: Buffer[];
  let blockRoot: string;
  const input = syntheticText(400);

  /** A marker directory per job; `blocked: true` makes nobody block (the clean run). */
  const blockDir = (name: string, blocked = false) => {
    const dir = path.join(blockRoot, name);
    mkdirSync(blocked ? path.join(dir, 'blocked') : dir, { recursive: true });
    return dir;
  };

  beforeAll(async () => {
    blockRoot = mkdtempSync(path.join(os.tmpdir(), 'mr-slowstart-'));
    t = await startFaultStack({ workers: 3 });
    const files = [
      await putScript(t, 'code/slowstart/map.sh', BLOCKING_MAPPER),
      await putScript(t, 'code/slowstart/reduce.sh', INDEX_REDUCER),
    ];
    base = {
      input: await t.putInput('in/slowstart/', { 'words.txt': input }),
      mapper: 'map.sh',
      reducer: 'reduce.sh',
      files,
      numMappers: 4,
      numReducers: 1,
    } as Omit<ManifestInput, 'output' | 'env'>;
    // The reference: no slow-start (the default 1.0), nobody blocks.
    const output = `s3://${t.bucket}/out/slowstart-clean/`;
    const job = await finish(t, await t.submit({ ...base, output, env: { BLOCK_DIR: blockDir('clean', true) } } as ManifestInput));
    expect(job.status, job.reason).toBe('SUCCEEDED');
    expect(job.reduceReleasedAt).toBeUndefined();
    clean = await t.readParts(output, 1);
    expect(indexWordTotal(clean)).toBe(countWords(input));
  });

  afterAll(async () => {
    saveWorkerLogs(t, 'slow-start');
    await t?.stop();
    if (blockRoot) rmSync(blockRoot, { recursive: true, force: true });
  });

  /**
   * Start a slow-start job and wait for the state the tests kill in: three maps committed,
   * one blocked (RUNNING), the phase still MAP, and the reducer's heartbeat reporting as its
   * shuffle total exactly the bytes of the three committed slices (it fetched them all).
   */
  async function startWaitingReducer(name: string, dir: string, numReducers = 1) {
    const output = `s3://${t.bucket}/out/${name}/`;
    const jobId = await t.submit({ ...base, numReducers, output, env: { BLOCK_DIR: dir }, jobconf: SLOWSTART } as ManifestInput);
    return waitFor(
      `${name}: 3 maps committed, 1 blocked, the reducer fetched the 3`,
      async () => {
        const [maps, reduces, job] = await Promise.all([t.s.tasks.list(jobId, 'map'), t.s.tasks.list(jobId, 'reduce'), t.job(jobId)]);
        const committed = maps.filter((m) => m.status === 'COMMITTED');
        const blocked = maps.find((m) => m.status === 'RUNNING' && m.owner);
        const reducer = reduces.find((r) => r.status === 'RUNNING' && r.owner);
        const r = reducer?.index ?? 0;
        const fetched = committed.reduce((n, m) => n + m.output!.offsets[r + 1]! - m.output!.offsets[r]!, 0);
        if (committed.length !== 3 || !blocked || !reducer || job?.phase !== 'MAP' || reducer.progressTotal !== fetched) return undefined;
        return { jobId, output, blocked, reducer, job, committed };
      },
      { timeoutMs: 60_000, intervalMs: 50 },
    );
  }

  const mapAttempts = (maps: readonly TaskRecord[]) => maps.map((m) => [m.taskId, m.committedAttempt, m.output?.key]);

  it('a map killed while an early reducer waits is re-run; the reducer reads only committed attempts and keeps its fetches', async () => {
    const dir = blockDir('map-killed');
    const w = await startWaitingReducer('map-killed', dir);
    expect(w.job.reduceReleasedAt).toBeDefined();
    expect(w.reducer.owner).not.toBe(w.blocked.owner);

    const child = signalWorker(t, w.blocked.owner!, 'SIGKILL');
    await exited(child);
    expect(child.signalCode).toBe('SIGKILL');
    // What a map attempt killed after its upload and before its commit leaves behind: an
    // object under its own attempt's key. Reading it would add this word to the output.
    const stray = mapOutputKey(w.jobId, w.blocked.taskId, w.blocked.attempt);
    await t.blobs.putBytes(t.bucket, stray, 'uncommitted-attempt\t1\n'.repeat(50));
    writeFileSync(path.join(dir, 'go'), ''); // the killed attempt's orphaned mapper may exit
    t.stack.spawnWorker();

    const job = await finish(t, w.jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const maps = await t.s.tasks.list(w.jobId, 'map');
    const rerun = maps.find((m) => m.taskId === w.blocked.taskId)!;
    expect(rerun).toMatchObject({ status: 'COMMITTED', stalls: 1 });
    expect(rerun.committedAttempt).toBeGreaterThan(w.blocked.attempt);
    expect(rerun.output!.key).not.toBe(stray);
    // The early reducer was never restarted: its first attempt committed after the re-run map.
    const reduce = (await t.s.tasks.list(w.jobId, 'reduce'))[0]!;
    expect(reduce).toMatchObject({ status: 'COMMITTED', stalls: 0, failures: 0, committedAttempt: w.reducer.attempt });
    expect(reduce.claimedAt).toBeLessThan(rerun.committedAt!);
    expectIdenticalParts(await t.readParts(w.output, 1), clean, 'slow-start output after killing a map');
  });

  it("the early reducer's worker killed mid-wait: the reduce is redone, no map re-run, same bytes", async () => {
    const dir = blockDir('reducer-killed');
    const w = await startWaitingReducer('reducer-killed', dir);
    const child = signalWorker(t, w.reducer.owner!, 'SIGKILL');
    await exited(child);
    expect(child.signalCode).toBe('SIGKILL');
    writeFileSync(path.join(dir, 'go'), ''); // the blocked map may now finish
    t.stack.spawnWorker();

    const job = await finish(t, w.jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const reduce = (await t.s.tasks.list(w.jobId, 'reduce'))[0]!;
    expect(reduce).toMatchObject({ status: 'COMMITTED', stalls: 1 });
    expect(reduce.committedAttempt).toBeGreaterThan(w.reducer.attempt);
    const maps = await t.s.tasks.list(w.jobId, 'map');
    expect(maps.every((m) => m.status === 'COMMITTED' && m.stalls === 0)).toBe(true);
    expect(mapAttempts(maps.filter((m) => m.taskId !== w.blocked.taskId))).toEqual(mapAttempts(w.committed));
    expectIdenticalParts(await t.readParts(w.output, 1), clean, 'slow-start output after killing the early reducer');
  });

  it('a job cancelled while its early reducer waits: the reducer stops (its attempt ends cancelled)', async () => {
    const dir = blockDir('cancelled');
    const w = await startWaitingReducer('cancelled', dir);
    await cancelJob(t.s, w.jobId, { where: 'the test stack' });
    const ended = await waitFor(
      'the waiting reducer to stop',
      async () => {
        const r = (await t.s.tasks.list(w.jobId, 'reduce'))[0]!;
        return r.status !== 'RUNNING' ? r : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    expect(ended.status).not.toBe('COMMITTED');
    expect(ended.history?.at(-1)).toMatchObject({ outcome: 'cancelled', worker: w.reducer.owner });
    writeFileSync(path.join(dir, 'go'), '');
    expect((await t.job(w.jobId))?.status).toBe('CANCELLED');
  });

  it('early reducers holding every worker while a map waits for one: a reducer yields its worker, the job finishes', async () => {
    // Two reducers and three workers: one blocked in a map, one in each reducer. When the
    // map's worker dies, the re-run of the map finds no free worker: both wait in reducers.
    const dir = blockDir('yield');
    const w = await startWaitingReducer('yield', dir, 2);
    const child = signalWorker(t, w.blocked.owner!, 'SIGKILL');
    await exited(child);
    writeFileSync(path.join(dir, 'go'), '');
    await waitFor('the killed map back in the queue', async () => {
      const m = (await t.s.tasks.list(w.jobId, 'map')).find((x) => x.taskId === w.blocked.taskId);
      return m?.status === 'PENDING' && m.stalls === 1 ? m : undefined;
    }, { timeoutMs: 30_000, intervalMs: 50 });
    const job = await finish(t, w.jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const reduces = await t.s.tasks.list(w.jobId, 'reduce');
    expect(reduces.every((r) => r.status === 'COMMITTED' && r.failures === 0 && r.stalls === 0)).toBe(true);
    expect(reduces.flatMap((r) => r.history ?? []).filter((h) => h.outcome === 'released').length).toBeGreaterThan(0);
    expect(sortedLines(await t.readParts(w.output, 2))).toEqual(sortedLines(clean));
  });

  it('a two-step job with slow-start 0: step 1 reducers fetch while a map runs; output byte-identical to the job without', async () => {
    const { mapper, reducer, numReducers, ...rest } = { ...base, numReducers: 2 };
    const steps = { ...rest, steps: [{ mapper, reducer, numReducers }, { mapper: 'cat', reducer: 'cat', numReducers: 1 }] };
    const submit = (name: string, dir: string, jobconf: Record<string, string>) =>
      t.submit({ ...steps, output: `s3://${t.bucket}/out/${name}/`, env: { BLOCK_DIR: dir }, jobconf } as unknown as ManifestInput);
    const clean = await finish(t, await submit('steps-clean', blockDir('steps-clean', true), {}));
    expect(clean.status, clean.reason).toBe('SUCCEEDED');
    // Step 1's first map blocks until a step 1 reducer has fetched some committed slices.
    const dir = blockDir('steps');
    const jobId = await submit('steps', dir, { [JobConfKeys.REDUCE_SLOWSTART]: '0', 'mapreduce.map.speculative': 'false' });
    await waitFor('a step 1 reducer that fetched while a map is blocked', async () => {
      const tasks = await t.s.tasks.list(jobId);
      const blocked = tasks.some((x) => x.kind === 'map' && x.status === 'RUNNING');
      return blocked && tasks.find((x) => x.kind === 'reduce' && x.status === 'RUNNING' && (x.progressTotal ?? 0) > 0);
    }, { timeoutMs: 60_000, intervalMs: 50 });
    writeFileSync(path.join(dir, 'go'), '');
    const job = await finish(t, jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    expectIdenticalParts(await t.readParts(`s3://${t.bucket}/out/steps/`, 1), await t.readParts(`s3://${t.bucket}/out/steps-clean/`, 1), 'two-step job with slow-start');
  });
});
