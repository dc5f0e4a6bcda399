import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOCK_BYTES } from './byte-merge.js';
import { ByteLineCounter } from './byte-line-counter.js';
import { countOf, countedLineEnd, expandCounted, MAX_RECORD_COUNT, trailerBytes, writeTrailer } from './counted-lines.js';
import { mergeSegments, newMergeStats, type Segment } from './merge-passes.js';
import { mulberry32 as prng } from './prng.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-counted-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** One map's output lines as bytes: repeats of a small vocabulary with bytes below tab, some long lines, and a line `big` times. */
function mapLines(rnd: () => number, n: number, big: number): Buffer {
  const byte = () => {
    for (;;) {
      const c = Math.floor(rnd() * 256);
      if (c !== 10) return c;
    }
  };
  const vocab: Buffer[] = [Buffer.from(''), Buffer.from('the\t1'), Buffer.from('the'), Buffer.from('a\x01b\t1'), Buffer.from('\x00\t\t1'), Buffer.from('caf\xe9\t1', 'latin1')];
  while (vocab.length < 40) {
    const k = Buffer.from(Array.from({ length: Math.floor(rnd() * 8) }, () => (rnd() < 0.6 ? 0x61 + Math.floor(rnd() * 3) : byte())));
    vocab.push(rnd() < 0.8 ? Buffer.concat([k, Buffer.from(`\t${1 + Math.floor(rnd() * 2)}`)]) : k);
  }
  const parts: Buffer[] = [];
  const nl = Buffer.from('\n');
  for (let i = 0; i < n; i++) parts.push(vocab[Math.floor(rnd() ** 3 * vocab.length)]!, nl);
  // Lines longer than a block (each once or twice), and one line `big` times.
  if (rnd() < 0.5) for (let c = 1 + Math.floor(rnd() * 2); c > 0; c--) parts.push(Buffer.alloc(BLOCK_BYTES + 100, 0x7a), nl);
  if (big > 0) parts.push(Buffer.alloc(big * 6, 'hot\t1\n'));
  return Buffer.concat(parts);
}

/** The counter's R partitions of `lines`, each as one buffer: counted form or every copy. */
async function counterPartitions(lines: Buffer, R: number, counted: boolean): Promise<Buffer[]> {
  const counter = new ByteLineCounter(R);
  expect(counter.add(lines, 0, Infinity)).toBe(lines.length);
  const out: Buffer[] = [];
  for (const part of counter.take({ counted })) {
    const blocks: Buffer[] = [];
    for await (const b of part) blocks.push(Buffer.from(b.bytes));
    out.push(Buffer.concat(blocks));
  }
  return out;
}

function memorySegment(bytes: Buffer, counted: boolean, rnd: () => number): Segment {
  return {
    counted,
    onDisk: false,
    // Cut anywhere, as a file or an HTTP body is read.
    open: () =>
      (async function* () {
        for (let i = 0; i < bytes.length; ) {
          const n = 1 + Math.floor(rnd() * (rnd() < 0.5 ? 7 : 100000));
          yield bytes.subarray(i, i + n);
          i += n;
        }
      })(),
    release: async () => {},
  };
}

async function merged(segments: Segment[], factor: number, memoryBudget?: number): Promise<{ bytes: Buffer; lines: number; groups: number; stored: number }> {
  const blocks: Buffer[] = [];
  let lines = 0;
  let groups = 0;
  let stored = 0;
  for await (const b of mergeSegments(segments, { factor, tmpDir: dir, stats: newMergeStats(), memoryBudget })) {
    blocks.push(Buffer.from(b.bytes));
    lines += b.lines;
    groups += b.groups;
    stored += b.stored;
  }
  return { bytes: Buffer.concat(blocks), lines, groups, stored };
}

describe('the counted form', () => {
  it('round-trips counts in its trailer, which holds neither a newline nor a tab', () => {
    for (const c of [1, 2, 127, 128, 129, 16383, 16384, 1_000_000, 2 ** 31, MAX_RECORD_COUNT]) {
      const buf = Buffer.alloc(3 + trailerBytes(c) + 1, 0x61);
      const nl = writeTrailer(buf, 3, c);
      buf[nl] = 0x0a;
      expect(nl + 1).toBe(buf.length);
      expect(countOf(buf, nl)).toBe(c);
      expect(countedLineEnd(buf, nl)).toBe(3);
      expect([...buf.subarray(3, nl)].some((b) => b === 0x0a || b === 0x09)).toBe(false);
    }
    expect(trailerBytes(1)).toBe(1);
    expect(trailerBytes(127)).toBe(2);
    expect(trailerBytes(MAX_RECORD_COUNT)).toBe(6);
  });

  for (const R of [1, 3]) {
    it(`counted writer + counted merge + expansion gives the plain sorted bytes, lines and groups (R=${R})`, async () => {
      const rnd = prng(100 + R);
      for (let round = 0; round < 6; round++) {
        const maps = 1 + Math.floor(rnd() * 6);
        // A line a million times in one round's first map.
        const outputs = Array.from({ length: maps }, (_, m) => mapLines(rnd, Math.floor(rnd() * 3000), round === 0 && m === 0 ? 1_000_000 : 0));
        const counted = await Promise.all(outputs.map((o) => counterPartitions(o, R, true)));
        const plain = await Promise.all(outputs.map((o) => counterPartitions(o, R, false)));
        for (let r = 0; r < R; r++) {
          // Fan-in 2 forces merge passes when there are more than 2 maps: in memory (these
          // segments are), or through disk with no memory budget for runs.
          const factor = rnd() < 0.5 ? 2 : 64;
          const memoryBudget = rnd() < 0.5 ? 0 : undefined;
          const want = await merged(plain.map((p) => memorySegment(p[r]!, false, rnd)), factor, memoryBudget);
          const got = await merged(counted.map((p) => memorySegment(p[r]!, true, rnd)), factor, memoryBudget);
          expect(got.bytes.equals(want.bytes)).toBe(true);
          expect(got.lines).toBe(want.lines);
          expect(got.groups).toBe(want.groups);
          expect(got.stored).toBe(counted.reduce((n, p) => n + p[r]!.length, 0));
          // Some maps counted, others plain (an object from before the form, or a map whose counting stopped).
          const mixed = await merged(counted.map((p, m) => (m % 2 === 0 ? memorySegment(p[r]!, true, rnd) : memorySegment(plain[m]![r]!, false, rnd))), factor, memoryBudget);
          expect(mixed.bytes.equals(want.bytes)).toBe(true);
          expect(mixed.groups).toBe(want.groups);
        }
        if (round === 0) {
          // The counted form holds the million copies in one record.
          const total = (ps: Buffer[][]) => ps.flat().reduce((n, b) => n + b.length, 0);
          expect(total(counted)).toBeLessThan(total(plain) / 10);
        }
      }
      // A million-copy line, long lines and merge passes on disk: seconds on a loaded machine.
    }, 60_000);
  }

  it('expands records cut anywhere, and refuses a record cut short', async () => {
    const rnd = prng(9);
    const lines = mapLines(rnd, 5000, 1000);
    const [counted] = await counterPartitions(lines, 1, true);
    const [plain] = await counterPartitions(lines, 1, false);
    const out: Buffer[] = [];
    let n = 0;
    for await (const b of expandCounted(memorySegment(counted!, true, rnd).open())) {
      out.push(Buffer.from(b.bytes));
      n += b.lines;
    }
    expect(Buffer.concat(out).equals(plain!)).toBe(true);
    expect(n).toBe(plain!.toString('latin1').split('\n').length - 1);
    const cut = (async function* () {
      yield counted!.subarray(0, counted!.length - 1);
    })();
    await expect(async () => {
      for await (const _ of expandCounted(cut)) void _;
    }).rejects.toThrow(RangeError);
  });
});
