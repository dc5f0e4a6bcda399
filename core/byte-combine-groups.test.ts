import { describe, expect, it } from 'vitest';
import { combineByteGroups, type LineBlock } from './byte-combine-groups.js';
import { combineGroups } from './merge.js';
import { mulberry32 } from './prng.js';
import { encodeLines } from './records.js';

/** Sorted latin1 lines (keys from a small or large vocabulary, some UTF-8 encoded as latin1, some long, some without a tab). */
function sortedLines(rand: () => number, n: number, vocab: number): string[] {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const w = Math.floor(rand() ** 3 * vocab);
    let key = `k${w}`;
    if (w % 7 === 3) key = Buffer.from(`ñé${w}€`, 'utf8').toString('latin1');
    if (w % 11 === 5) key = `long${'x'.repeat(200 + (w % 50))}${w}`;
    if (w % 13 === 1) key = `a\x01${w}`; // a key byte below '\t'
    lines.push(rand() < 0.1 ? key : `${key}\t${1 + Math.floor(rand() * 3)}`);
  }
  return lines.sort((a, b) => {
    const ka = a.split('\t')[0]!;
    const kb = b.split('\t')[0]!;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
}

/** The lines cut into blocks at random line boundaries; one buffer reused for every block, as the sorter does. */
async function* blocksOf(lines: string[], rand: () => number, maxLines: number): AsyncIterable<LineBlock | string[]> {
  const scratch = Buffer.alloc(1 << 20);
  for (let i = 0; i < lines.length; ) {
    const n = 1 + Math.floor(rand() * maxLines);
    const part = lines.slice(i, i + n);
    i += n;
    if (rand() < 0.1) {
      yield part; // a string batch now and then
      continue;
    }
    const bytes = encodeLines(part);
    bytes.copy(scratch);
    yield { bytes: scratch.subarray(0, bytes.length), lines: part.length };
    scratch.fill(0x21, 0, bytes.length); // a block is invalid once the next one is asked for
  }
}

/** Every output line, copying byte spans as they come. */
async function collect(out: AsyncIterable<LineBlock | string[]>): Promise<string[]> {
  const lines: string[] = [];
  for await (const b of out) {
    if (Array.isArray(b)) lines.push(...b);
    else {
      const text = b.bytes.toString('latin1');
      expect(text.endsWith('\n')).toBe(true);
      const got = text.slice(0, -1).split('\n');
      expect(got.length).toBe(b.lines);
      lines.push(...got);
    }
  }
  return lines;
}

function summer(calls: string[], async: boolean) {
  return (key: string, lines: string[]): string[] | Promise<string[]> => {
    calls.push(`${key}:${lines.join('|')}`);
    let total = 0;
    for (const l of lines) total += l.length > key.length ? Number(l.slice(key.length + 1)) : 0;
    // Drops a group now and then, and gives two lines for others: any combiner output is passed on.
    const out = key.endsWith('7') ? [] : key.endsWith('3') ? [`${key}\t${total}`, `${key}\t0`] : [`${key}\t${total}`];
    return async ? Promise.resolve(out) : out;
  };
}

describe('combineByteGroups', () => {
  it('gives the lines and the combiner calls of combineGroups over the same blocks (random inputs)', async () => {
    for (let seed = 1; seed <= 60; seed++) {
      const rand = mulberry32(seed);
      const lines = sortedLines(rand, 1 + Math.floor(rand() * 3000), [5, 300, 100000][seed % 3]!);
      const maxLines = [1, 3, 40, 5000][seed % 4]!;
      const combineAt = [2, 16, 4096][seed % 3]!;
      const async = seed % 2 === 0;
      // The same blocks for both: the reference sees each block decoded as a batch.
      const blocks: string[][] = [];
      const r1 = mulberry32(seed * 7);
      for await (const b of blocksOf(lines, r1, maxLines)) blocks.push(Array.isArray(b) ? b : b.bytes.toString('latin1').slice(0, -1).split('\n'));
      const refCalls: string[] = [];
      const expected = await collect(
        combineGroups(
          (async function* () {
            yield* blocks;
          })(),
          summer(refCalls, async),
          { combineAt },
        ),
      );
      const calls: string[] = [];
      const got = await collect(combineByteGroups(blocksOf(lines, mulberry32(seed * 7), maxLines), summer(calls, async), { combineAt }));
      expect(got).toEqual(expected);
      expect(calls).toEqual(refCalls);
    }
  });

  it('passes lines whose key has no neighbour as the block itself and decodes only groups', async () => {
    const calls: string[] = [];
    const block = { bytes: Buffer.from('a\t1\nb\t1\nb\t2\nc\t1\nd\t1\n', 'latin1'), lines: 5 };
    const next = { bytes: Buffer.from('d\t5\ne\t1\n', 'latin1'), lines: 2 };
    const out: Array<LineBlock | string[]> = [];
    for await (const b of combineByteGroups(
      (async function* () {
        yield block;
        yield next;
      })(),
      summer(calls, false),
    )) {
      out.push(Array.isArray(b) ? b : { bytes: Buffer.from(b.bytes), lines: b.lines });
    }
    expect(out).toEqual([
      { bytes: Buffer.from('a\t1\n'), lines: 1 },
      ['b\t3'],
      { bytes: Buffer.from('c\t1\n'), lines: 1 },
      ['d\t6'],
      ['e\t1'],
    ]);
    expect(calls).toEqual(['b:b\t1|b\t2', 'd:d\t1|d\t5']);
  });

  it('gives nothing for an empty stream or empty blocks', async () => {
    const none = (async function* (): AsyncIterable<LineBlock> {
      yield { bytes: Buffer.alloc(0), lines: 0 };
    })();
    expect(await collect(combineByteGroups(none, () => ['x']))).toEqual([]);
  });
});
