/**
 * TypeScript module steps (bundled with esbuild like the CLI does), two jobs at once,
 * and the intermediate objects a job leaves: one per map attempt, the committed one
 * being what the task record points at.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleStepModule } from '../../cli/bundle.js';
import { mapOutputKey } from '../../core/layout.js';
import { finishJob, prng, randInt, reference, startJob, WC_MAP, WC_REDUCE, words } from '../helpers/pipeline.js';
import { example, sortedLines, TestStack } from '../helpers/stack.js';

/** Word count in plain JS with the module's rule: UTF-8 text, split(/\s+/), empty words dropped. */
function jsWordCount(files: Record<string, Buffer>): Buffer {
  const counts = new Map<string, number>();
  for (const b of Object.values(files)) {
    for (const w of b.toString('utf8').split(/\s+/)) if (w !== '') counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return Buffer.from([...counts].map(([w, n]) => `${w}\t${n}\n`).join(''), 'utf8');
}

describe('module steps, concurrent jobs, intermediate objects', () => {
  let t: TestStack;
  let bundleDir: string;
  beforeAll(async () => {
    bundleDir = mkdtempSync(path.join(os.tmpdir(), 'mr-bundle-'));
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(bundleDir, { recursive: true, force: true });
  });

  it('word count with wordcount.ts as mapper, combiner and reducer', async () => {
    const outfile = path.join(bundleDir, 'wordcount.mjs');
    await bundleStepModule(example('wordcount/wordcount.ts'), outfile);
    const rand = prng(20);
    const unicode = ['naïve', 'straße', '日本語', '🙂', 'Ωmega', 'café'];
    const spaces = [' ', '  ', '\t', '\u00a0', '\u3000', '\u2003', ' \r'];
    const line = () =>
      Array.from({ length: randInt(rand, 0, 8) }, () => (rand() < 0.3 ? unicode[randInt(rand, 0, 5)] : words(rand, 1)))
        .map((w) => `${w}${spaces[randInt(rand, 0, spaces.length - 1)]}`)
        .join('');
    const files = {
      'a.txt': Buffer.from(`${Array.from({ length: 300 }, line).join('\n')}\n`),
      'b.txt': Buffer.from(`${Array.from({ length: 200 }, line).join('\r\n')}`),
      // Not UTF-8: module code sees U+FFFD, as documented in worker/module-api.ts.
      'c.bin': Buffer.concat([Buffer.from('bad'), Buffer.from([0xff, 0x20]), Buffer.from('bad\xfe\n', 'latin1')]),
    };
    const mod = { module: 'wordcount.mjs' };
    const run = await finishJob(
      t,
      await startJob(t, {
        name: 'module-wc',
        files,
        mapper: mod,
        combiner: mod,
        reducer: mod,
        ship: [outfile],
        extra: { numReducers: 2, splitSize: 4096 },
      }),
    );
    expect(run.parts).toHaveLength(2);
    expect(run.job.numMaps).toBeGreaterThan(3);
    expect(sortedLines(run.parts)).toEqual(sortedLines(jsWordCount(files)));
    // The combiner really ran on the map side.
    const combineIn = run.job.counters['mapreduce.COMBINE_INPUT_RECORDS'] ?? 0;
    const combineOut = run.job.counters['mapreduce.COMBINE_OUTPUT_RECORDS'] ?? 0;
    expect(combineIn).toBeGreaterThan(combineOut);
    expect(combineOut).toBeGreaterThan(0);
  });

  it('two jobs submitted at once both succeed with their own correct output', async () => {
    const rand = prng(21);
    const filesA = { 'a.txt': Buffer.from(`${Array.from({ length: 200 }, () => words(rand, 7)).join('\n')}\n`) };
    const filesB = {
      'b.txt': Buffer.from(`${Array.from({ length: 200 }, () => `${words(rand, 1)}\t${words(rand, 2)}`).join('\n')}\n`),
    };
    const [a, b] = await Promise.all([
      startJob(t, {
        name: 'conc-a',
        files: filesA,
        mapper: 'wc_map.sh',
        reducer: 'wc_reduce.sh',
        ship: [WC_MAP, WC_REDUCE],
        extra: { splitSize: 2000, numReducers: 2 },
      }),
      startJob(t, { name: 'conc-b', files: filesB, mapper: 'cut -f2', reducer: 'cat', extra: { splitSize: 1000 } }),
    ]);
    const [ra, rb] = await Promise.all([finishJob(t, a), finishJob(t, b)]);
    expect(ra.job.jobId).not.toBe(rb.job.jobId);
    expect(sortedLines(ra.parts)).toEqual(sortedLines(reference(filesA, WC_MAP, WC_REDUCE)));
    expect(sortedLines(rb.parts)).toEqual(sortedLines(reference(filesB, 'cut -f2', 'cat')));
    expect(ra.parts).toHaveLength(2);
    expect(rb.parts).toHaveLength(1);
    // Neither job wrote into the other's output.
    const keys = async (prefix: string) => (await t.blobs.list(t.bucket, prefix)).map((o) => o.key.slice(prefix.length));
    expect(await keys('out/conc-a/')).toEqual(['_SUCCESS', 'part-00000', 'part-00001']);
    expect(await keys('out/conc-b/')).toEqual(['_SUCCESS', 'part-00000']);
  });

  it('leaves one intermediate object per map attempt; each task points at its committed one', async () => {
    const rand = prng(22);
    const files = { 'x.txt': Buffer.from(`${Array.from({ length: 120 }, () => words(rand, 5)).join('\n')}\n`) };
    const run = await finishJob(
      t,
      await startJob(t, {
        name: 'interm',
        files,
        mapper: 'wc_map.sh',
        reducer: 'wc_reduce.sh',
        ship: [WC_MAP, WC_REDUCE],
        // Keeps tmp/ after success (mapreduce.task.files.preserve.filepattern), to look at the map outputs.
        extra: { splitSize: 800, numReducers: 3, jobconf: { 'mapreduce.task.files.preserve.filepattern': '.*' } },
      }),
    );
    expect(sortedLines(run.parts)).toEqual(sortedLines(reference(files, WC_MAP, WC_REDUCE)));
    const tasks = await t.s.tasks.list(run.jobId, 'map');
    expect(tasks).toHaveLength(run.job.numMaps);
    expect(run.job.numMaps).toBe(Math.ceil(files['x.txt'].length / 800));
    const objects = (await t.blobs.list(t.bucket, `tmp/${run.jobId}/map/`)).map((o) => o.key);
    for (const task of tasks) {
      const mine = objects.filter((k) => k.startsWith(`tmp/${run.jobId}/map/${task.taskId}/`));
      const attempts = Array.from({ length: task.attempt }, (_, i) => mapOutputKey(run.jobId, task.taskId, i + 1));
      // Only attempt-N keys, and the committed attempt's object is the task's output.
      expect(attempts).toEqual(expect.arrayContaining(mine));
      expect(task.status).toBe('COMMITTED');
      expect(task.output?.key).toBe(mapOutputKey(run.jobId, task.taskId, task.committedAttempt ?? task.attempt));
      expect(mine).toContain(task.output?.key);
      expect(task.output?.offsets).toHaveLength(3 + 1);
      if (task.attempt === 1) expect(mine).toHaveLength(1);
    }
  });
});
