/**
 * A module reducer over one hot key: 2M values of one key reduce in bounded memory
 * (issue 13, streamed groups). The reduce attempt's peak RSS is read from /proc:
 * VmHWM of the worker, reset (clear_refs) when the reduce task starts running, so the
 * map tasks that ran before in the same worker do not count. Facts, not timings.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finishJob, startJob } from '../helpers/pipeline.js';
import { REPO, TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';

const HOT_KEY = path.join(REPO, 'test', 'fixtures', 'modules', 'hot_key.mjs');
const FANOUT = 1000; // pairs per input line, as in hot_key.mjs
const MIB = 1024 * 1024;

/** Peak resident set size of a process since its last reset, from /proc/<pid>/status (VmHWM). */
function peakRssBytes(pid: number): number {
  const m = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

describe('streamed groups', () => {
  let t: TestStack;
  beforeAll(async () => {
    // One worker, so the reduce runs in the process we watch. A synchronous reduce call holds
    // the worker's event loop (heartbeats too) for the whole group, as documented in
    // worker/module-api.ts: the lease must outlast one call on a busy machine.
    t = await TestStack.start({ workers: 1, timings: { heartbeatMs: 1000, missedHeartbeats: 60 } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  /** Run the hot-key job over `lines` input lines; returns its output and the reduce attempt's peak RSS. */
  async function hotKeyJob(name: string, lines: number): Promise<{ output: string; reducePeak: number; records?: number }> {
    const pid = t.stack.workerProcesses[0]!.pid!;
    const started = await startJob(t, {
      name,
      files: { 'n.txt': Buffer.from(Array.from({ length: lines }, (_, i) => `${i}\n`).join('')) },
      mapper: { module: 'hot_key.mjs' },
      reducer: { module: 'hot_key.mjs' },
      ship: [HOT_KEY],
      extra: { numReducers: 1, splitSize: 1024 },
    });
    await waitFor(
      'the reduce task to run',
      async () => {
        const [reduce] = await t.s.tasks.list(started.jobId, 'reduce');
        if (reduce?.status === 'COMMITTED') throw new Error('the reduce finished before its start was seen');
        return reduce?.status === 'RUNNING' ? true : undefined;
      },
      { timeoutMs: 120_000 },
    );
    writeFileSync(`/proc/${pid}/clear_refs`, '5'); // VmHWM := current RSS
    const run = await finishJob(t, started);
    return {
      output: Buffer.concat(run.parts).toString(),
      reducePeak: peakRssBytes(pid),
      records: run.job.counters['mapreduce.REDUCE_INPUT_RECORDS'],
    };
  }

  it('a module reduce over 2M values of one key gives the right result (and logs the reducer peak RSS)', async () => {
    const expected = (n: number) => `hot\t${n}\t${(n * (n - 1)) / 2}\n`; // count, sum of 0..n-1 (exact below 2^53)
    const small = await hotKeyJob('hot-400k', 400);
    expect(small.output).toBe(expected(400 * FANOUT));
    const big = await hotKeyJob('hot-2m', 2000);
    expect(big.output).toBe(expected(2000 * FANOUT));
    expect(big.records).toBe(2000 * FANOUT);
    // The peak RSS is logged, not asserted: across CI runs the 2M job's peak was 2 to 70 MiB
    // above the 400k job's, so RSS (which also holds garbage V8 has not collected yet) does
    // not separate a streamed group from an array here. Bounded memory stays to be shown by
    // a worker run under a small --max-old-space-size (issue 13).
    console.log(
      JSON.stringify({ reducePeakRssMiB400k: small.reducePeak / MIB, reducePeakRssMiB2M: big.reducePeak / MIB }),
    );
  });
});
