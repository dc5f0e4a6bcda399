import { execFileSync } from 'node:child_process';
import { isAscii } from 'node:buffer';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { UnsupportedCompressionError } from './compression.js';
import type { InputSplit } from './model.js';
import { LimitExceededError } from './errors.js';
import { computeSplits, READ_PAST_SPLIT_END, readSplitBytes, readSplitLines, SplitLineFilter } from './splits.js';
import { isAsciiBatch } from './records.js';
import { mulberry32 as prng } from './prng.js';

/** Hadoop's LineReader, written directly: LF, CR-LF and lone CR end a line; a final line without one is a record. */
function referenceLines(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\n' && text[i] !== '\r') continue;
    lines.push(text.slice(start, i));
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    start = i + 1;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

/** In-memory fetchRange that serves random-sized chunks and records every request. */
function fakeStore(data: Buffer, rnd: () => number = Math.random) {
  const requests: [number, number][] = [];
  const fetchRange = async function* (start: number, end: number): AsyncIterable<Uint8Array> {
    requests.push([start, end]);
    let p = start;
    while (p < Math.min(end, data.length)) {
      const n = 1 + Math.floor(rnd() * 4096);
      const q = Math.min(p + n, end, data.length);
      // Alternate Buffer and plain Uint8Array chunks.
      yield q % 2 ? data.subarray(p, q) : new Uint8Array(data.subarray(p, q));
      p = q;
    }
  };
  return { requests, fetchRange };
}

async function collect(it: AsyncIterable<string[]>): Promise<string[]> {
  const out: string[] = [];
  for await (const b of it) {
    if (b.length === 0) throw new Error('empty batch');
    out.push(...b);
  }
  return out;
}

async function readAllSplits(data: Buffer, splitSize: number, rnd: () => number, chunkSize?: number) {
  const splits = computeSplits([{ bucket: 'b', key: 'k', size: data.length }], { splitSize });
  const store = fakeStore(data, rnd);
  const lines: string[] = [];
  for (const split of splits) {
    const before = store.requests.length;
    lines.push(...(await collect(readSplitLines(split, store.fetchRange, { chunkSize }))));
    // The first request is always [start-1, end + a little), the little bounded by the chunk size.
    const [from, to] = store.requests[before]!;
    const past = Math.min(chunkSize ?? 1024 * 1024, READ_PAST_SPLIT_END);
    if (from !== Math.max(0, split.start - 1) || to !== Math.min(split.end + past, data.length)) throw new Error(`first request ${from}-${to}`);
  }
  return { lines, requests: store.requests };
}

function randomFile(rnd: () => number, len: number): Buffer {
  const alphabet = [10, 10, 10, 13, 9, 0x61, 0x62, 0x63, 0xe9, 0xff, 0x80, 0x00];
  const bytes = Buffer.alloc(len);
  for (let i = 0; i < len; i++) bytes[i] = alphabet[Math.floor(rnd() * alphabet.length)]!;
  return bytes;
}

describe('computeSplits', () => {
  it('stops at maxSplits with the count it would have made, without building the huge plan', () => {
    const objects = [{ bucket: 'b', key: 'big.txt', size: 1024 * 1024 }];
    const err = (() => {
      try {
        computeSplits(objects, { splitSize: 1, maxSplits: 10_000 });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(LimitExceededError);
    expect((err as LimitExceededError).context).toEqual({ mapTasks: 1_048_576, splitSize: 1, limit: 10_000 });
    expect(computeSplits(objects, { splitSize: 105, maxSplits: 10_000 }).length).toBe(9_987);
  });

  const objs = [
    { bucket: 'b', key: 'z.txt', size: 25 },
    { bucket: 'b', key: 'a.txt', size: 10 },
    { bucket: 'b', key: 'empty', size: 0 },
    { bucket: 'b', key: 'c.gz', size: 100 },
  ];

  it('cuts objects in order, skips empty ones, keeps gzip whole', () => {
    const s = computeSplits(objs, { splitSize: 10 });
    expect(s.map((x) => [x.key, x.start, x.end, x.gzip])).toEqual([
      ['a.txt', 0, 10, false],
      ['c.gz', 0, 100, true],
      ['z.txt', 0, 10, false],
      ['z.txt', 10, 20, false],
      ['z.txt', 20, 25, false],
    ]);
    for (const x of s) expect(x.objectSize).toBe(objs.find((o) => o.key === x.key)!.size);
  });

  it('derives the split size from numMappers', () => {
    const s = computeSplits([{ bucket: 'b', key: 'a', size: 100 }], { numMappers: 3 });
    expect(s.map((x) => [x.start, x.end])).toEqual([
      [0, 34],
      [34, 68],
      [68, 100],
    ]);
    expect(computeSplits([{ bucket: 'b', key: 'a', size: 2 }], { numMappers: 10 })).toHaveLength(2);
  });

  it('returns [] when all input is empty, and uses 64 MiB by default', () => {
    expect(computeSplits([{ bucket: 'b', key: 'a', size: 0 }], {})).toEqual([]);
    expect(computeSplits([], { numMappers: 4 })).toEqual([]);
    expect(computeSplits([{ bucket: 'b', key: 'a', size: 200 * 1024 * 1024 }])).toHaveLength(4);
  });

  it('rejects a bad split size', () => {
    expect(() => computeSplits(objs, { splitSize: 0 })).toThrow(RangeError);
  });
});

describe('readSplitLines', () => {
  it('owns each line exactly once for random data and split sizes', async () => {
    const rnd = prng(7);
    for (let round = 0; round < 70; round++) {
      const data = randomFile(rnd, Math.floor(rnd() * 400));
      const splitSize = [1, 2, 3, 5, 17, 64, 1000][round % 7]!;
      const { lines } = await readAllSplits(data, splitSize, rnd, 1 + Math.floor(rnd() * 8));
      expect(lines).toEqual(referenceLines(data));
    }
  });

  it("strips CR-LF and lone CR line ends as Hadoop's LineReader does; keeps empty lines and non-UTF-8 bytes", async () => {
    const data = Buffer.concat([Buffer.from('a\r\n\r\n\n\xff\xfe\tv\r\nold\rmac\r\rlast', 'latin1')]);
    for (const size of [1, 2, 3, 4, 7, 100]) {
      const { lines } = await readAllSplits(data, size, prng(size));
      expect(lines).toEqual(['a', '', '', '\xff\xfe\tv', 'old', 'mac', '', 'last']);
    }
  });

  it('reads a line over 1 MiB past the split end with doubling range requests', async () => {
    const long = 'L'.repeat(3 * 1024 * 1024);
    const data = Buffer.from(`first\n${long}\nshort\n`, 'latin1');
    const { lines, requests } = await readAllSplits(data, 100_000, prng(3));
    expect(lines).toEqual(['first', long, 'short']);
    // Split 0 owns the long line: [0, 100000 + 64 KiB) then 1 MiB, 2 MiB... until its '\n'.
    const first = 100_000 + READ_PAST_SPLIT_END;
    expect(requests.slice(0, 3)).toEqual([
      [0, first],
      [first, first + 1024 * 1024],
      // 2 MiB asked, clamped to the object's end.
      [first + 1024 * 1024, Math.min(first + 3 * 1024 * 1024, data.length)],
    ]);
  });

  it('makes one request when the last owned line ends within the bytes read past the split end', async () => {
    const data = Buffer.from('abc\ndef\nghi\n', 'latin1');
    const store = fakeStore(data);
    const split: InputSplit = { bucket: 'b', key: 'k', start: 0, end: 4, objectSize: 12, gzip: false };
    expect(await collect(readSplitLines(split, store.fetchRange))).toEqual(['abc']);
    expect(store.requests).toEqual([[0, 12]]);
    const middle = { ...split, start: 2, end: 6 };
    expect(await collect(readSplitLines(middle, store.fetchRange))).toEqual(['def']);
    expect(store.requests.slice(1)).toEqual([[1, 12]]);
    const next = { ...split, start: 4, end: 8 };
    expect(await collect(readSplitLines(next, store.fetchRange))).toEqual(['def']);
  });

  it('marks a batch ASCII only when every byte read so far was (random data and chunks, a few non-ASCII bytes)', async () => {
    for (let trial = 0; trial < 40; trial++) {
      const rnd = prng(trial + 1);
      const size = 2000 + Math.floor(rnd() * 30_000);
      const data = Buffer.alloc(size);
      // Mostly letters and line ends; in half the trials a byte >= 0x80 now and then, anywhere in a line.
      const odd = trial % 2 === 1 ? 0.0005 : 0;
      for (let i = 0; i < size; i++) {
        const r = rnd();
        data[i] = r < 0.05 ? 0x0a : r < 0.06 ? 0x0d : r < 0.06 + odd ? 0x80 + Math.floor(rnd() * 128) : 0x61 + Math.floor(rnd() * 26);
      }
      const splits = computeSplits([{ bucket: 'b', key: 'k', size }], { splitSize: 1 + Math.floor(rnd() * size) });
      const store = fakeStore(data, rnd);
      for (const split of splits) {
        let nonAsciiSeen = false;
        for await (const batch of readSplitLines(split, store.fetchRange, { chunkSize: 1 + Math.floor(rnd() * 8192) })) {
          const ascii = batch.every((l) => isAscii(Buffer.from(l, 'latin1')));
          if (!ascii) nonAsciiSeen = true;
          // Marked: all ASCII. All-ASCII data: every batch marked.
          if (isAsciiBatch(batch)) expect(ascii).toBe(true);
          if (odd === 0) expect(isAsciiBatch(batch)).toBe(true);
        }
        if (odd === 0) expect(nonAsciiSeen).toBe(false);
      }
    }
  });

  it('reads a gzip split whole, including concatenated members', async () => {
    const data = Buffer.concat([gzipSync(Buffer.from('a\tb\nc\n')), gzipSync(Buffer.from('d\xff', 'latin1'))]);
    const [split] = computeSplits([{ bucket: 'b', key: 'x.gz', size: data.length }], { splitSize: 1 });
    expect(await collect(readSplitLines(split!, fakeStore(data).fetchRange))).toEqual(['a\tb', 'c', 'd\xff']);
  });

  it.each(['bzip2', 'zstd'] as const)('reads a %s object whole (one split) as text lines', async (tool) => {
    const data = execFileSync(tool, ['-c'], { input: Buffer.from('a\tb\r\nc\n\xe9\n', 'latin1') });
    const key = tool === 'bzip2' ? 'x.bz2' : 'x.zst';
    const splits = computeSplits([{ bucket: 'b', key, size: data.length }], { splitSize: 1 });
    expect(splits).toHaveLength(1);
    expect(await collect(readSplitLines(splits[0]!, fakeStore(data).fetchRange))).toEqual(['a\tb', 'c', '\xe9']);
  });

  it('refuses to plan an input with a compression suffix it cannot read', () => {
    expect(() => computeSplits([{ bucket: 'b', key: 'in/part-0.lz4', size: 10 }])).toThrow(UnsupportedCompressionError);
  });

  it('fails on a corrupt gzip object', async () => {
    const data = Buffer.from('not gzip at all');
    const [split] = computeSplits([{ bucket: 'b', key: 'x.gz', size: data.length }]);
    await expect(collect(readSplitLines(split!, fakeStore(data).fetchRange))).rejects.toThrow();
  });

  it('fails when a range read comes back short', async () => {
    const data = Buffer.from('aaaaaaaaaa');
    const split: InputSplit = { bucket: 'b', key: 'k', start: 0, end: 5, objectSize: 20, gzip: false };
    await expect(collect(readSplitLines(split, fakeStore(data).fetchRange))).rejects.toThrow(/ended at byte 10/);
  });
});

/** A split's byte blocks, each checked to be non-empty whole '\n'-ended lines, concatenated. */
async function collectBytes(it: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const b of it) {
    if (b.length === 0 || b[b.length - 1] !== 10) throw new Error(`block not ended by LF: ${JSON.stringify(b.toString('latin1'))}`);
    out.push(b);
  }
  return Buffer.concat(out);
}

/** The lines as the mapper reads them on stdin: each ended by '\n'. */
const asStdin = (lines: string[]) => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');

/** Random cut points: splits of any size, some holding no line start. */
function randomSplits(size: number, rnd: () => number): InputSplit[] {
  const cuts = new Set([0, size]);
  const n = Math.floor(rnd() * 8);
  for (let i = 0; i < n; i++) cuts.add(Math.floor(rnd() * size));
  const sorted = [...cuts].sort((x, y) => x - y);
  return sorted.slice(0, -1).map((start, i) => ({ bucket: 'b', key: 'k', start, end: sorted[i + 1]!, objectSize: size, gzip: false }));
}

describe('readSplitBytes', () => {
  it('gives, for any split and any chunking, the bytes of the lines readSplitLines gives', async () => {
    const rnd = prng(21);
    for (let round = 0; round < 300; round++) {
      let data = randomFile(rnd, Math.floor(rnd() * 300));
      // Half of the files end with a line end, half may not; some end with a lone CR.
      if (round % 2 === 0 && data.length > 0) data = Buffer.concat([data, Buffer.from([[10, 13, 13, 10][round % 4]!])]);
      const splits = randomSplits(data.length, rnd);
      const all: Buffer[] = [];
      for (const split of splits) {
        const chunkSize = 1 + Math.floor(rnd() * 8);
        const bytes = await collectBytes(readSplitBytes(split, fakeStore(data, rnd).fetchRange, { chunkSize }));
        const lines = await collect(readSplitLines(split, fakeStore(data, rnd).fetchRange, { chunkSize }));
        expect(bytes.toString('latin1')).toEqual(asStdin(lines).toString('latin1'));
        all.push(bytes);
      }
      expect(Buffer.concat(all).toString('latin1')).toEqual(asStdin(referenceLines(data)).toString('latin1'));
    }
  });

  it('makes CR-LF and lone CR ends LF, keeps empty lines, and ends a last line without LF', async () => {
    const data = Buffer.from('a\r\n\r\n\n\xff\xfe\tv\r\nold\rmac\r\rlast', 'latin1');
    for (const size of [1, 2, 3, 4, 7, 100]) {
      const splits = computeSplits([{ bucket: 'b', key: 'k', size: data.length }], { splitSize: size });
      const parts: Buffer[] = [];
      for (const split of splits) parts.push(await collectBytes(readSplitBytes(split, fakeStore(data, prng(size)).fetchRange)));
      expect(Buffer.concat(parts).toString('latin1')).toBe('a\n\n\n\xff\xfe\tv\nold\nmac\n\nlast\n');
    }
  });

  it('hands the fetched chunks on without copying when they hold whole lines and no CR', async () => {
    const data = Buffer.from('ab\ncd\n');
    const split: InputSplit = { bucket: 'b', key: 'k', start: 0, end: data.length, objectSize: data.length, gzip: false };
    const blocks: Buffer[] = [];
    for await (const b of readSplitBytes(split, async function* () {
      yield data;
    })) blocks.push(b);
    expect(blocks).toHaveLength(1);
    expect(blocks[0]!.buffer).toBe(data.buffer);
  });

  it.each([
    ['x.gz', (b: Buffer) => gzipSync(b)],
    ['x.bz2', (b: Buffer) => execFileSync('bzip2', ['-c'], { input: b })],
  ])('reads a compressed object (%s) whole, with the same line ends', async (key, compress) => {
    const data = compress(Buffer.from('a\tb\r\nc\n\xe9\rlast', 'latin1'));
    const [split] = computeSplits([{ bucket: 'b', key, size: data.length }], { splitSize: 1 });
    expect((await collectBytes(readSplitBytes(split!, fakeStore(data).fetchRange))).toString('latin1')).toBe('a\tb\nc\n\xe9\nlast\n');
  });
});

describe('SplitLineFilter', () => {
  it('skips the line in progress and stops after the first line past the end', () => {
    // Bytes from offset 2 (start-1) of "ab\ncd\nef\n": split [3, 4) owns only "cd".
    const f = new SplitLineFilter(3, 4);
    expect(f.push(Buffer.from('\ncd\nef\n'))).toEqual(['cd']);
    expect(f.done).toBe(true);
    expect(f.push(Buffer.from('more\n'))).toEqual([]);
  });

  it('owns nothing when no line starts inside the split', () => {
    const f = new SplitLineFilter(2, 4);
    expect(f.push(Buffer.from('bcde'))).toEqual([]);
    expect(f.done).toBe(true);
    expect(f.end()).toEqual([]);
  });
});
