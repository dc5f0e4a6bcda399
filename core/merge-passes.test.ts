import { readdirSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectBatches } from '../test/helpers/batches.js';
import { linesOf } from './byte-merge.js';
import { DEFAULT_MEMORY_RUN_BUDGET, fileSegment, mergeSegments, newMergeStats, type Segment } from './merge-passes.js';
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

/** A fetched slice held in memory (as worker/slice-fetch.ts keeps small ones): read once, no file. */
function memorySegment(lines: readonly string[]): Segment {
  let held: Buffer | undefined = Buffer.from(lines.length > 0 ? `${lines.join('\n')}\n` : '', 'latin1');
  return {
    onDisk: false,
    open: () => {
      const b = held;
      held = undefined;
      return (async function* () {
        if (b !== undefined && b.length > 0) yield b;
      })();
    },
    release: async () => {
      held = undefined;
    },
  };
}

describe('mergeSegments, in-memory intermediate merges', () => {
  /** Merge `segments` with factor 8; the lines, and the files seen in `dir` whenever the merge opened a merge's inputs. */
  async function merge(segments: Segment[], memoryBudget?: number) {
    const stats = newMergeStats();
    const got: string[] = [];
    const filesSeen: number[] = [];
    const onInputsOpen = () => {
      filesSeen.push(readdirSync(dir).length);
    };
    for await (const block of mergeSegments(segments, { factor: 8, tmpDir: dir, stats, memoryBudget, onInputsOpen })) got.push(...linesOf(block.bytes));
    return { got, stats, filesSeen };
  }
  const expectedOf = (data: string[][]) => collectBatches(mergeSorted(data.map((lines) => (async function* () { if (lines.length > 0) yield lines; })())));

  it('merges 300 in-memory segments like one merge of all, ties included, without any file', async () => {
    const data = runs(300, 11);
    const { got, stats, filesSeen } = await merge(data.map(memorySegment));
    expect(got).toEqual(await expectedOf(data));
    // 300 → 8 needs intermediate merges (in two rounds); all stay in memory.
    expect(stats.memoryMerges).toBeGreaterThan(300 / 8);
    expect(stats.intermediateMerges).toBe(0);
    expect(stats.maxOpenFiles).toBe(0);
    expect(filesSeen.length).toBe(stats.memoryMerges + 1);
    expect(Math.max(...filesSeen)).toBe(0);
    expect(stats.maxMemoryRunBytes).toBeGreaterThan(0);
    expect(stats.maxMemoryRunBytes).toBeLessThanOrEqual(DEFAULT_MEMORY_RUN_BUDGET);
  });

  it('goes to files once the in-memory runs outgrow the budget, with the same output', async () => {
    const data = runs(300, 12);
    const bytes = data.reduce((n, lines) => n + lines.reduce((m, l) => m + l.length + 1, 0), 0);
    const budget = Math.floor(bytes / 10);
    const { got, stats, filesSeen } = await merge(data.map(memorySegment), budget);
    expect(got).toEqual(await expectedOf(data));
    expect(stats.memoryMerges).toBeGreaterThan(0);
    expect(stats.intermediateMerges).toBeGreaterThan(0);
    expect(stats.maxMemoryRunBytes).toBeLessThanOrEqual(budget);
    expect(Math.max(...filesSeen)).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('with a budget of 0 writes every intermediate merge to a file', async () => {
    const data = runs(40, 13);
    const { got, stats } = await merge(data.map(memorySegment), 0);
    expect(got).toEqual(await expectedOf(data));
    expect(stats.memoryMerges).toBe(0);
    expect(stats.intermediateMerges).toBeGreaterThan(0);
  });

  it('merges groups holding a file through disk, and in-memory groups in memory, with the same output', async () => {
    const data = runs(60, 14);
    const segments: Segment[] = [];
    for (const [i, lines] of data.entries()) {
      if (i % 20 !== 5) {
        segments.push(memorySegment(lines));
        continue;
      }
      const path = join(dir, `in-${i}`);
      const text = lines.length > 0 ? `${lines.join('\n')}\n` : '';
      await writeFile(path, text, 'latin1');
      segments.push(fileSegment(path, text.length));
    }
    const { got, stats } = await merge(segments);
    expect(got).toEqual(await expectedOf(data));
    expect(stats.memoryMerges).toBeGreaterThan(0);
    expect(stats.intermediateMerges).toBeGreaterThan(0);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('mergeSegments, onInputsOpen', () => {
  /** This process's open descriptors (the listing's own one not counted). */
  const openFds = () => readdirSync('/proc/self/fd').length - 1;

  for (const [memoryBudget, runFiles] of [
    [0, 8],
    [undefined, 0],
  ] as const) {
    it(`is called while the final merge's ${runFiles} intermediate files are open together (run budget ${memoryBudget ?? 'default'})`, async () => {
      // 512 one-line slices in memory, factor 64: 8 intermediate merges, then the final one of 64.
      const segments = Array.from({ length: 512 }, (_, i) => memorySegment([`k${String(i % 97).padStart(3, '0')}\t${i}`]));
      const before = openFds();
      const seen: number[] = [];
      const stats = newMergeStats();
      for await (const block of mergeSegments(segments, { factor: 64, tmpDir: dir, stats, memoryBudget, onInputsOpen: () => seen.push(openFds()) })) expect(block.lines).toBe(512);
      expect(stats.maxOpenFiles).toBe(runFiles);
      // Tiny files are closed as soon as read, before the merge's one output block: only a look
      // at their opening sees them all open.
      expect(Math.max(...seen) - before).toBe(runFiles);
    });
  }
});
