import { describe, expect, it } from 'vitest';
import { collectBatches } from '../test/helpers/batches.js';
import { BLOCK_BYTES, type LineBlock, linesOf, mergeSortedBytes } from './byte-merge.js';
import { batchesOf, mergeSorted } from './merge.js';
import { mulberry32 as prng } from './prng.js';
import { keyOf } from './records.js';

/** Byte-order comparison of keys, like `LC_ALL=C sort` on the key field. */
const byKeyBytes = (a: string, b: string) =>
  Buffer.compare(Buffer.from(keyOf(a), 'latin1'), Buffer.from(keyOf(b), 'latin1'));

function randomLine(rnd: () => number): string {
  const chars = ['a', 'b', 'c', '\xe9', '\xff', '\x01', ' ', '\r', '\x00'];
  let key = '';
  const n = Math.floor(rnd() * 4);
  for (let i = 0; i < n; i++) key += chars[Math.floor(rnd() * chars.length)];
  return rnd() < 0.2 ? key : `${key}\tv${Math.floor(rnd() * 1000)}${rnd() < 0.1 ? '\tx' : ''}`;
}

/** The lines as latin1 bytes, '\n'-ended (the last one maybe not), cut into random chunks (some empty). */
async function* randomChunks(lines: string[], rnd: () => number, lastNewline = true): AsyncIterable<Buffer> {
  let text = lines.map((l) => `${l}\n`).join('');
  // Without its '\n' an empty last line would vanish: only a non-empty one may lack it.
  if (!lastNewline && lines.length > 0 && lines[lines.length - 1] !== '') text = text.slice(0, -1);
  const bytes = Buffer.from(text, 'latin1');
  let i = 0;
  while (i < bytes.length) {
    const n = Math.floor(rnd() * 12);
    yield bytes.subarray(i, i + n);
    i += n;
  }
}

async function collect(it: AsyncIterable<LineBlock>): Promise<{ lines: string[]; count: number; groups: number; blocks: LineBlock[] }> {
  const blocks: LineBlock[] = [];
  for await (const b of it) blocks.push(b);
  return {
    lines: blocks.flatMap((b) => linesOf(b.bytes)),
    count: blocks.reduce((n, b) => n + b.lines, 0),
    groups: blocks.reduce((n, b) => n + b.groups, 0),
    blocks,
  };
}

/** Key changes in a sorted list of lines (the first line starts a group). */
function groupCount(lines: string[]): number {
  let n = 0;
  for (let i = 0; i < lines.length; i++) if (i === 0 || keyOf(lines[i]!) !== keyOf(lines[i - 1]!)) n++;
  return n;
}

describe('mergeSortedBytes', () => {
  it('gives exactly mergeSorted\'s lines (order and ties), with line and group counts, whatever the chunking', async () => {
    const rnd = prng(7);
    for (let round = 0; round < 300; round++) {
      const k = Math.floor(rnd() * 6);
      const inputs = Array.from({ length: k }, () =>
        Array.from({ length: Math.floor(rnd() * 40) }, () => randomLine(rnd)).sort(byKeyBytes),
      );
      const expected = await collectBatches(mergeSorted(inputs.map((l) => batchesOf(l, 3))));
      const got = await collect(mergeSortedBytes(inputs.map((l) => randomChunks(l, rnd, rnd() < 0.5))));
      expect(got.lines).toEqual(expected);
      expect(got.count).toBe(expected.length);
      expect(got.groups).toBe(groupCount(expected));
      for (const b of got.blocks) {
        expect(b.bytes.length).toBeGreaterThan(0);
        expect(b.bytes[b.bytes.length - 1]).toBe(0x0a);
      }
    }
  });

  it('orders keys of any length that share their first bytes (the cached 4- and 8-byte prefixes), with group counts', async () => {
    // Keys of 0-17 bytes over few bytes (zero and high bytes among them): many share their first
    // 4 or 8 bytes and differ after, or are a zero-padded prefix of another; up to 12 sources.
    const rnd = prng(11);
    const chars = ['a', '\x00', '\xff', '\x80'];
    const line = () => {
      let key = '';
      const n = Math.floor(rnd() * 14);
      for (let i = 0; i < n; i++) key += chars[Math.floor(rnd() * (i < 3 || (i >= 4 && i < 7) ? 2 : chars.length))];
      if (rnd() < 0.3) key = `${'\xff\x00a\x80'.slice(0, Math.floor(rnd() * 5))}${key}`;
      // Values short and long (the cursor searches a short one's '\n' byte by byte).
      return rnd() < 0.2 ? key : `${key}\t${Math.floor(rnd() * 3)}${rnd() < 0.2 ? 'v'.repeat(Math.floor(rnd() * 40)) : ''}`;
    };
    for (let round = 0; round < 200; round++) {
      const k = 1 + Math.floor(rnd() * 12);
      const inputs = Array.from({ length: k }, () => Array.from({ length: Math.floor(rnd() * 60) }, line).sort(byKeyBytes));
      const expected = await collectBatches(mergeSorted(inputs.map((l) => batchesOf(l, 5))));
      const got = await collect(mergeSortedBytes(inputs.map((l) => randomChunks(l, rnd))));
      expect(got.lines).toEqual(expected);
      expect(got.groups).toBe(groupCount(expected));
    }
  });

  it('breaks ties by source index and sorts by key, not by the whole line', async () => {
    const src = (...lines: string[]) => randomChunks(lines, prng(1));
    const out = await collect(mergeSortedBytes([src('k\ta1', 'k\ta2', 'z\ta'), src('k\tb1', 'm\tb'), src('a\tc', 'k\tc1')]));
    expect(out.lines).toEqual(['a\tc', 'k\ta1', 'k\ta2', 'k\tb1', 'k\tc1', 'm\tb', 'z\ta']);
    expect(out.groups).toBe(4);
    // Key "a" < key "a\x01" although the line "a\tz" > "a\x01" as bytes.
    expect((await collect(mergeSortedBytes([src('a\x01'), src('a\tz')]))).lines).toEqual(['a\tz', 'a\x01']);
  });

  it('copies runs that sort before the other sources, and a last source, in pieces of at most a block', async () => {
    const lines = (p: string, n: number) => Array.from({ length: n }, (_, i) => `${p}${String(i).padStart(6, '0')}\t${'x'.repeat(50)}`);
    const a = lines('a', 20000);
    const b = lines('b', 20000);
    const one = async function* (ls: string[]) {
      yield Buffer.from(ls.map((l) => `${l}\n`).join(''), 'latin1');
    };
    const out = await collect(mergeSortedBytes([one(b), one(a)]));
    expect(out.lines).toEqual([...a, ...b]);
    expect(out.groups).toBe(40000);
    for (const blk of out.blocks) expect(blk.bytes.length).toBeLessThanOrEqual(BLOCK_BYTES);
  });

  it('keeps a line longer than a block whole, in a block of its own size', async () => {
    const long = `m\t${'y'.repeat(BLOCK_BYTES + 10)}`;
    const src = (...ls: string[]) => randomChunks(ls, prng(3));
    const chunked = async function* (ls: string[]) {
      const bytes = Buffer.from(ls.map((l) => `${l}\n`).join(''), 'latin1');
      for (let i = 0; i < bytes.length; i += 100_000) yield bytes.subarray(i, i + 100_000);
    };
    const out = await collect(mergeSortedBytes([chunked(['a\t1', long, 'z\t1']), src('b\t2', 'n\t2')]));
    expect(out.lines).toEqual(['a\t1', 'b\t2', long, 'n\t2', 'z\t1']);
    const alone = await collect(mergeSortedBytes([chunked([long, long])]));
    expect(alone.lines).toEqual([long, long]);
    expect(alone.groups).toBe(1);
  });

  it('with reuseBlocks hands out one buffer, and a consumer that copies each block gets the same bytes (big inputs: full blocks)', async () => {
    const rnd = prng(11);
    // Three sorted sources of ~1 MiB each (several output blocks), with ties across sources.
    const inputs = Array.from({ length: 3 }, () =>
      Array.from({ length: 6_000 }, () => `${Math.floor(rnd() * 3000)}\t${'v'.repeat(Math.floor(rnd() * 150))}`).sort(byKeyBytes),
    );
    // Chunks of up to 64 KiB, cut anywhere (lines straddle them).
    const bigChunks = async function* (lines: string[], r: () => number) {
      const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
      for (let i = 0; i < bytes.length; ) {
        const n = 1 + Math.floor(r() * 65536);
        yield bytes.subarray(i, i + n);
        i += n;
      }
    };
    const fresh = await collect(mergeSortedBytes(inputs.map((l) => bigChunks(l, prng(1)))));
    const copies: Buffer[] = [];
    const buffers = new Set<ArrayBufferLike>();
    let lines = 0;
    let groups = 0;
    for await (const b of mergeSortedBytes(inputs.map((l) => bigChunks(l, prng(1))), { reuseBlocks: true })) {
      copies.push(Buffer.from(b.bytes));
      buffers.add(b.bytes.buffer);
      lines += b.lines;
      groups += b.groups;
    }
    expect(copies.length).toBeGreaterThan(2);
    expect(buffers.size).toBe(1);
    // Blocks full to the brim and runs of one source copied in one piece: still the string merge's lines.
    const expected = await collectBatches(mergeSorted(inputs.map((l) => batchesOf(l, 500))));
    expect(linesOf(Buffer.concat(copies))).toEqual(expected);
    expect(groups).toBe(groupCount(expected));
    expect(Buffer.concat(copies).equals(Buffer.concat(fresh.blocks.map((b) => b.bytes)))).toBe(true);
    expect(lines).toBe(fresh.count);
    expect(groups).toBe(fresh.groups);
  });

  it('merges no sources, and empty ones, into nothing', async () => {
    expect((await collect(mergeSortedBytes([]))).blocks).toEqual([]);
    const empty = async function* () {
      yield Buffer.alloc(0);
    };
    expect((await collect(mergeSortedBytes([empty(), empty()]))).blocks).toEqual([]);
  });

  it('stops its sources when the consumer stops early', async () => {
    let closed = 0;
    const src = (p: string) =>
      (async function* () {
        try {
          for (let i = 0; ; i++) yield Buffer.from(`${p}${String(i).padStart(8, '0')}\n`.repeat(1), 'latin1');
        } finally {
          closed++;
        }
      })();
    for await (const _ of mergeSortedBytes([src('a'), src('b'), src('c')])) break;
    expect(closed).toBe(3);
  });
});

describe('linesOf', () => {
  it('decodes a block to its lines as latin1, empty lines included', () => {
    expect(linesOf(Buffer.from('a\tb\n\n\xff\xe9\n', 'latin1'))).toEqual(['a\tb', '', '\xff\xe9']);
    expect(linesOf(Buffer.alloc(0))).toEqual([]);
  });
});

describe('mergeSortedBytes with lineIndex', () => {
  /** Check a block's index against its bytes (read before the next block is asked for); returns the last key. */
  function checkIndex(b: LineBlock, prevKey: string | undefined): string | undefined {
    const ix = b.index!;
    expect(ix).toBeDefined();
    const lines = linesOf(b.bytes);
    expect(lines.length).toBe(b.lines);
    let start = 0;
    let key = prevKey;
    const wrong: number[] = [];
    for (let i = 0; i < b.lines; i++) {
      const line = lines[i]!;
      const k = ix.keyEnds[i]!;
      const keyEnd = k < 0 ? ~k : k;
      const ok =
        ix.ends[i] === start + line.length &&
        b.bytes.toString('latin1', start, keyEnd) === keyOf(line) &&
        k < 0 === (key === undefined || keyOf(line) !== key);
      if (!ok) wrong.push(i);
      key = keyOf(line);
      start = ix.ends[i]! + 1;
    }
    expect(wrong).toEqual([]);
    expect(start).toBe(b.bytes.length);
    return key;
  }

  async function* chunksOf(lines: string[], size: number): AsyncIterable<Buffer> {
    const bytes = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'latin1');
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }

  async function mergeChecked(sources: AsyncIterable<Buffer>[]): Promise<{ lines: string[]; blocks: number }> {
    const lines: string[] = [];
    let key: string | undefined;
    let blocks = 0;
    // Reused blocks, as a module reducer gets them: each is checked before the next is merged.
    for await (const b of mergeSortedBytes(sources, { lineIndex: true, reuseBlocks: true })) {
      key = checkIndex(b, key);
      lines.push(...linesOf(b.bytes));
      blocks++;
    }
    return { lines, blocks };
  }

  it('gives each block the key end, the end and the group start of every line, across blocks', async () => {
    const rnd = prng(23);
    for (let round = 0; round < 200; round++) {
      const k = Math.floor(rnd() * 7);
      const inputs = Array.from({ length: k }, () => Array.from({ length: Math.floor(rnd() * 50) }, () => randomLine(rnd)).sort(byKeyBytes));
      const expected = await collectBatches(mergeSorted(inputs.map((l) => batchesOf(l, 3))));
      const got = await mergeChecked(inputs.map((l) => randomChunks(l, rnd, rnd() < 0.5)));
      expect(got.lines).toEqual(expected);
    }
    // Several blocks (groups open across their boundaries), runs copied whole and single lines.
    const big = (tag: string) => Array.from({ length: 40_000 }, (_, i) => `k${String(Math.floor(i / 3)).padStart(6, '0')}\t${tag}${i % 7}`);
    const inputs = [big('a'), big('b').filter((_, i) => i % 5 !== 0), ['a'.repeat(70), 'z\t1']];
    const expected = await collectBatches(mergeSorted(inputs.map((l) => batchesOf(l, 1000))));
    const got = await mergeChecked(inputs.map((l) => chunksOf(l, 64 * 1024 + 7)));
    expect(got.lines).toEqual(expected);
    expect(got.blocks).toBeGreaterThan(1);
  });

  it('leaves blocks without an index unless asked', async () => {
    for await (const b of mergeSortedBytes([randomChunks(['a\t1', 'b\t2'], prng(1))])) expect(b.index).toBeUndefined();
  });
});
