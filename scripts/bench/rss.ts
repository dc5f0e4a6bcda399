/** The memory figure: peak RSS of the workers on a job whose reduce partition is ≥ 4× the sort buffer. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BenchStack, putCode, uploadInParts } from './bench-stack.js';
import { prefixForMapOutput, wordCountMapOutputBytes } from './corpus.js';
import { procMemory } from './processes.js';
import { type BenchOptions, diffCounts } from './results.js';
import { countWords, formatCounts } from './single-process.js';

/**
 * Peak RSS of the workers over a job whose one reduce partition is at least 4× the sort
 * buffer: TS module mapper and reducer, no combiner (every `word\t1` line is shuffled),
 * one reducer, MR_SORT_BUFFER_BYTES set on the workers. Runs on a fresh stack so VmHWM
 * covers only this job.
 */
export async function measureRss(o: BenchOptions, corpus: string, bundle: string): Promise<Record<string, number>> {
  const data = readFileSync(corpus);
  const fullMapOutput = wordCountMapOutputBytes(data);
  // 4.25× leaves a margin over 4× for the estimate.
  const sortBuffer = Math.max(16 * 1024, Math.min(o.rssSortBufferBytes, Math.floor(fullMapOutput / 4.25 / 1024) * 1024));
  const prefix = data.subarray(0, prefixForMapOutput(data, Math.ceil(4.25 * sortBuffer)));
  const inputFile = path.join(o.workDir, 'rss-input.txt');
  writeFileSync(inputFile, prefix);
  const b = await BenchStack.start(o, { MR_SORT_BUFFER_BYTES: String(sortBuffer) });
  let peakRss = 0;
  const sampler = setInterval(() => {
    for (const c of b.stack.workerProcesses) {
      const m = c.pid ? procMemory(c.pid) : undefined;
      if (m) peakRss = Math.max(peakRss, m.rss);
    }
  }, 100);
  try {
    const splitSize = await uploadInParts(b, 'in/rss/', prefix, 4);
    const code = await putCode(b, bundle, 'code/wordcount.mjs');
    const mod = { module: 'wordcount.mjs' };
    const r = await b.run(
      {
        input: b.uri('in/rss/'),
        output: b.uri('out/rss/'),
        mapper: mod,
        reducer: mod,
        files: [code],
        numReducers: 1,
        splitSize,
      },
      100,
    );
    const hwm = Math.max(
      0,
      ...b.stack.workerProcesses.map((c) => (c.pid ? (procMemory(c.pid)?.hwm ?? 0) : 0)),
    );
    const d = diffCounts(formatCounts(await countWords(inputFile)), r.output);
    if (d) throw new Error(`memory job output differs from the single-process count: ${d}`);
    if (r.shuffle.maxPartition < 4 * sortBuffer) {
      throw new Error(`memory job: reduce partition ${r.shuffle.maxPartition} B is not 4× the sort buffer ${sortBuffer} B`);
    }
    return {
      worker_peak_rss_mib: Math.max(hwm, peakRss),
      worker_vmhwm_mib: Math.round(hwm * 10) / 10,
      worker_sampled_peak_rss_mib: Math.round(peakRss * 10) / 10,
      sort_buffer_bytes: sortBuffer,
      reduce_partition_bytes: r.shuffle.maxPartition,
      partition_over_buffer: Math.round((r.shuffle.maxPartition / sortBuffer) * 100) / 100,
      input_bytes: prefix.length,
      seconds: Math.round(r.seconds * 100) / 100,
    };
  } finally {
    clearInterval(sampler);
    await b.stop();
    rmSync(inputFile, { force: true });
  }
}
