import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectBatches } from '../test/helpers/batches.js';
import { linesOf } from './byte-merge.js';
import { fileSegment, mergeSegments, newMergeStats, type Segment } from './merge-passes.js';
import { mergeSorted } from './merge.js';
import { mulberry32 } from './prng.js';
import { keyOf } from './records.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-merge-passes-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `n` sorted runs of key-sorted lines; equal keys across runs, values name their run (tie order shows). */
function runs(n: number, seed: number): string[][] {
  const rnd = mulberry32(seed);
  return Array.from({ length: n }, (_, r) => {
    const lines = Array.from({ length: Math.floor(rnd() * 300) }, (_, i) => `k${Math.floor(rnd() * 40)}\trun${r}-${i}`);
    return lines.sort((a, b) => (keyOf(a) < keyOf(b) ? -1 : keyOf(a) > keyOf(b) ? 1 : 0));
  });
}

describe('mergeSegments', () => {
  for (const [n, factor] of [
    [12, 4],
    [30, 3],
    [17, 2],
    [5, 64],
  ] as const) {
    for (const [reuseBlocks, readBytes] of [[false, undefined], [true, undefined], [false, 7], [true, 61]] as const)
    it(`merges ${n} segments with factor ${factor} exactly like one merge of all, ties included (reused blocks ${reuseBlocks}, reads of ${readBytes ?? 'default'} bytes into one buffer)`, async () => {
      const data = runs(n, n * 7 + factor);
      const segments: Segment[] = [];
      for (const [i, lines] of data.entries()) {
        const path = join(dir, `in-${i}`);
        const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
        await writeFile(path, text, 'latin1');
        segments.push(fileSegment(path, text.length, false, readBytes));
      }
      const expected = await collectBatches(
        mergeSorted(data.map((lines) => (async function* () { if (lines.length > 0) yield lines; })())),
      );
      const stats = newMergeStats();
      const got: string[] = [];
      let groups = 0;
      for await (const block of mergeSegments(segments, { factor, tmpDir: dir, stats, reuseBlocks })) {
        got.push(...linesOf(block.bytes));
        groups += block.groups;
      }
      expect(got).toEqual(expected);
      expect(groups).toBe(new Set(expected.map(keyOf)).size);
      expect(stats.maxOpenSegments).toBeLessThanOrEqual(factor);
      expect(stats.maxOpenFiles).toBeLessThanOrEqual(factor);
      expect(stats.intermediateMerges > 0).toBe(n > factor);
      // Inputs and intermediate files are deleted once merged.
      expect(await readdir(dir)).toEqual([]);
    });
  }
});
