/**
 * `hot_key` (issue 13): a module reduce over ONE key with 20 M values (the test
 * fixture test/fixtures/modules/hot_key.mjs: each input line n emits 1,000 pairs `hot`
 * → 16-digit value; the reducer counts and sums them, iterating its values once) on a
 * stack of one worker. Figure: the worker's peak RSS during the reduce (VmHWM, reset
 * with clear_refs when the reduce task starts running, so the map tasks before it in the
 * same process do not count). Target ≤ 300 MiB. The output is checked first.
 *
 *   npm run bench -- --hot-key [--values 20000000]
 */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_TIMINGS } from '../../core/config.js';
import { packageRoot } from '../../local/stack.js';
import { BenchStack, putCode } from './bench-stack.js';
import { procMemory } from './processes.js';

const FANOUT = 1000;
/** The workers' sort buffer, as terasort's (64 MiB). */
export const HOT_KEY_SORT_BUFFER = 64 * 1024 * 1024;

export interface HotKeyResult {
  readonly section: 'hot_key';
  readonly values: number;
  readonly reduce_peak_rss_mib: number;
  readonly seconds: number;
  readonly load_avg_1m_start: number;
  readonly load_avg_1m_end: number;
}

export async function runHotKey(o: {
  values: number;
  workDir: string;
  endpoint: string;
  log: (m: string) => void;
}): Promise<HotKeyResult> {
  const load0 = os.loadavg()[0]!;
  const lines = Math.ceil(o.values / FANOUT);
  // A 64 MiB sort buffer, as in the terasort figure.
  // Default timings: the fixture's async reducer iterates with `for await`, so the
  // worker's heartbeats keep its lease through the 20 M-value group.
  const b = await BenchStack.start(
    { ...o, workers: 1, startEmulator: false },
    // A worker sized as a 512 MiB container (a 256 MiB heap): the figure is the bound a
    // small container holds, not what a 2 GiB worker's V8 lets garbage grow to.
    { MR_SORT_BUFFER_BYTES: String(HOT_KEY_SORT_BUFFER), MR_WORKER_MEMORY_MIB: '512' },
    [],
    DEFAULT_TIMINGS,
  );
  try {
    const pid = b.stack.workerProcesses[0]!.pid!;
    await b.s.blobs.putBytes(b.bucket, 'in/hot/n.txt', Array.from({ length: lines }, (_, i) => `${i}\n`).join(''));
    const code = await putCode(b, path.join(packageRoot(), 'test', 'fixtures', 'modules', 'hot_key.mjs'), 'code/hot_key.mjs');
    const mod = { module: 'hot_key.mjs' };
    // Reset the peak when the reduce starts: a watcher polls the task while run() waits for _SUCCESS.
    let reset = false;
    let stop = false;
    const watcher = (async () => {
      let jobId: string | undefined;
      while (!stop && !reset) {
        // The stack runs only this job: its id is the one manifest under jobs/.
        jobId ??= (await b.s.blobs.list(b.bucket, 'jobs/')).map((x) => /^jobs\/([^/]+)\/job\.json$/.exec(x.key)?.[1]).find(Boolean);
        const [reduce] = jobId ? await b.s.tasks.list(jobId, 'reduce') : [];
        if (reduce?.status === 'RUNNING') {
          writeFileSync(`/proc/${pid}/clear_refs`, '5'); // VmHWM := current RSS
          reset = true;
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    })();
    o.log(`hot_key: ${lines * FANOUT} values of one key`);
    const run = await b.run(
      { input: b.uri('in/hot/'), output: b.uri('out/hot/'), mapper: mod, reducer: mod, files: [code], numReducers: 1, splitSize: 64 * 1024 },
      200,
    );
    stop = true;
    await watcher;
    const n = lines * FANOUT;
    const expected = `hot\t${n}\t${(n * (n - 1)) / 2}\n`;
    if (run.output !== expected) throw new Error(`hot_key output ${JSON.stringify(run.output)} is not ${JSON.stringify(expected)}`);
    if (!reset) throw new Error('hot_key: the reduce task was never seen running, so its peak RSS is unknown');
    const peak = procMemory(pid)?.hwm ?? Number.NaN;
    return {
      section: 'hot_key',
      values: n,
      reduce_peak_rss_mib: Math.round(peak * 10) / 10,
      seconds: Math.round(run.seconds * 10) / 10,
      load_avg_1m_start: Math.round(load0 * 100) / 100,
      load_avg_1m_end: Math.round(os.loadavg()[0]! * 100) / 100,
    };
  } finally {
    await b.stop();
  }
}
