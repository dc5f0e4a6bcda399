/**
 * Conformance with `cat | map | LC_ALL=C sort | reduce` on awkward generated input
 * (seeded PRNG): odd line shapes, non-UTF-8 bytes, a line over 1 MiB, empty files.
 * Outputs are compared as byte-sorted lines, so the part split does not matter.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  finishJob,
  pick,
  prng,
  randInt,
  reference,
  referenceInput,
  startJob,
  WC_MAP,
  WC_REDUCE,
  WC_SUM,
  words,
} from '../helpers/pipeline.js';
import { sortedLines, TestStack } from '../helpers/stack.js';

const CTR = (name: string) => `mapreduce.${name}`;

/** Count the lines the framework sees in a set of files (a final line without '\n' counts). */
function lineCount(files: Record<string, Buffer>): number {
  return sortedLines(referenceInput(files)).length;
}

describe('conformance with the Unix pipeline', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('empty lines, lines without a tab, trailing tabs, CRLF, empty keys', async () => {
    const rand = prng(1);
    const shapes: ((r: () => number) => string)[] = [
      () => '',
      (r) => words(r, randInt(r, 1, 3)),
      (r) => `${words(r, 1)}\t${words(r, 2)}`,
      (r) => `${words(r, 1)}\t`,
      (r) => `${words(r, 1)}\t${words(r, 1)}\t`,
      (r) => `${words(r, 1)}\t\t`,
      (r) => `\t${words(r, 1)}`,
      (r) => `${words(r, 2)}\r`,
      (r) => `${words(r, 1)}\t${words(r, 1)}\r`,
      () => '\r',
      () => '   ',
      () => '\t',
    ];
    const gen = (n: number) => Array.from({ length: n }, () => pick(rand, shapes)(rand));
    const files = {
      'a.txt': Buffer.from(`${gen(150).join('\n')}\n`),
      'b-crlf.txt': Buffer.from(`${gen(150).join('\r\n')}\r\n`),
      'c-no-final-newline.txt': Buffer.from(`${gen(100).join('\n')}\tlast`),
    };
    const jobs = await Promise.all([
      startJob(t, { name: 'shapes-id', files, mapper: 'cat', reducer: 'cat', extra: { numReducers: 3 } }),
      startJob(t, {
        name: 'shapes-wc',
        files,
        mapper: 'wc_map.sh',
        reducer: 'wc_reduce.sh',
        ship: [WC_MAP, WC_REDUCE],
        extra: { numReducers: 2 },
      }),
      startJob(t, {
        name: 'shapes-keys',
        files,
        mapper: 'cut -f1',
        reducer: 'wc_reduce.sh',
        ship: [WC_REDUCE],
        extra: { numReducers: 2 },
      }),
    ]);
    const [id, wc, keys] = await Promise.all(jobs.map((j) => finishJob(t, j)));
    const expectedId = reference(files, 'cat', 'cat');
    expect(sortedLines(id!.parts)).toEqual(sortedLines(expectedId));
    expect(Buffer.concat(id!.parts).length).toBe(expectedId.length);
    expect(id!.job.counters[CTR('MAP_INPUT_RECORDS')]).toBe(lineCount(files));
    expect(id!.parts).toHaveLength(3);
    expect(sortedLines(wc!.parts)).toEqual(sortedLines(reference(files, WC_MAP, WC_REDUCE)));
    expect(sortedLines(keys!.parts)).toEqual(sortedLines(reference(files, 'cut -f1', WC_REDUCE)));
  });

  it('non-ASCII UTF-8 and bytes that are not valid UTF-8 pass through untouched', async () => {
    const rand = prng(2);
    const utf8 = ['naïve', 'straße', '日本語', '🙂', 'Ωmega', 'café', 'ÿ'];
    const invalid = [
      Buffer.from([0xff]),
      Buffer.from([0xfe, 0xfe]),
      Buffer.from([0xc3]), // truncated 2-byte sequence
      Buffer.from([0x80, 0x81]), // lone continuation bytes
      Buffer.from([0xc0, 0xaf]), // overlong '/'
      Buffer.from([0xed, 0xa0, 0x80]), // UTF-16 surrogate
      Buffer.from([0xe2, 0x82]), // truncated 3-byte sequence
      Buffer.from([0xa0, 0x85]), // NBSP / NEL in latin1, not whitespace in C
    ];
    const token = (allowNul: boolean) => {
      const k = rand();
      if (k < 0.35) return Buffer.from(pick(rand, utf8));
      if (k < 0.7) return Buffer.concat([Buffer.from(words(rand, 1)), pick(rand, invalid)]);
      if (allowNul && k < 0.75) return Buffer.from([0x00, 0x41]);
      return Buffer.from(words(rand, 1));
    };
    const line = (allowNul: boolean) => {
      const toks = Array.from({ length: randInt(rand, 1, 5) }, () => token(allowNul));
      const seps = toks.map(() => Buffer.from(pick(rand, [' ', '\t', ' '])));
      return Buffer.concat(toks.flatMap((tk, i) => (i === 0 ? [tk] : [seps[i] as Buffer, tk])));
    };
    const file = (n: number, allowNul: boolean) =>
      Buffer.concat(Array.from({ length: n }, () => Buffer.concat([line(allowNul), Buffer.from('\n')])));
    const idFiles = { 'x.bin': file(200, true), 'y.bin': file(200, true) };
    const wcFiles = { 'x.bin': file(200, false), 'y.bin': file(150, false) };
    const started = await Promise.all([
      startJob(t, { name: 'bytes-id', files: idFiles, mapper: 'cat', reducer: 'cat', extra: { numReducers: 2 } }),
      startJob(t, {
        name: 'bytes-wc',
        files: wcFiles,
        mapper: 'wc_map.sh',
        reducer: 'wc_reduce.sh',
        ship: [WC_MAP, WC_REDUCE],
        extra: { numReducers: 2 },
      }),
    ]);
    const [id, wc] = await Promise.all(started.map((j) => finishJob(t, j)));
    const expectedId = reference(idFiles, 'cat', 'cat');
    // Exact bytes: same multiset of lines, same total length.
    expect(sortedLines(id!.parts)).toEqual(sortedLines(expectedId));
    expect(Buffer.concat(id!.parts).length).toBe(expectedId.length);
    expect(Buffer.concat(id!.parts).includes(Buffer.from([0xed, 0xa0, 0x80]))).toBe(true);
    const expectedWc = reference(wcFiles, WC_MAP, WC_REDUCE);
    expect(sortedLines(wc!.parts)).toEqual(sortedLines(expectedWc));
    expect(Buffer.concat(wc!.parts).includes(Buffer.from([0xc0, 0xaf]))).toBe(true);
  });

  it('a line over 1 MiB (as a value, as a whole key, and as a run of words)', async () => {
    const rand = prng(3);
    const letters = (n: number) => {
      const b = Buffer.alloc(n);
      for (let i = 0; i < n; i++) b[i] = 97 + Math.floor(rand() * 26);
      return b;
    };
    const big = Buffer.concat([Buffer.from('bigvalue\t'), letters(1_300_000), Buffer.from('\n')]);
    const bigKey = Buffer.concat([letters(1_100_000), Buffer.from('\n')]);
    const bigWords = Buffer.from(`${words(rand, 250_000)}\n`); // ~1.25 MB in one line
    expect(bigWords.length).toBeGreaterThan(1024 * 1024);
    const small = Buffer.from(`${Array.from({ length: 50 }, () => `${words(rand, 1)}\t${words(rand, 2)}`).join('\n')}\n`);
    const idFiles = { 'big.txt': Buffer.concat([small, big, small, bigKey, small]) };
    const wcFiles = { 'words.txt': Buffer.concat([small, bigWords, small]) };
    const started = await Promise.all([
      startJob(t, { name: 'long-id', files: idFiles, mapper: 'cat', reducer: 'cat', extra: { numReducers: 2 } }),
      startJob(t, {
        name: 'long-wc',
        files: wcFiles,
        mapper: 'wc_map.sh',
        combiner: 'wc_sum.sh',
        reducer: 'wc_sum.sh',
        ship: [WC_MAP, WC_SUM],
      }),
    ]);
    const [id, wc] = await Promise.all(started.map((j) => finishJob(t, j)));
    const expectedId = reference(idFiles, 'cat', 'cat');
    const got = sortedLines(id!.parts);
    expect(got).toEqual(sortedLines(expectedId));
    expect(got.some((l) => l.length === big.length - 1)).toBe(true);
    expect(got.some((l) => l.length === bigKey.length - 1)).toBe(true);
    expect(sortedLines(wc!.parts)).toEqual(sortedLines(reference(wcFiles, WC_MAP, WC_SUM)));
  });

  it('empty files mixed with non-empty ones (and a file without a final newline)', async () => {
    const rand = prng(4);
    const files = {
      '00-empty.txt': Buffer.alloc(0),
      '01.txt': Buffer.from(`${Array.from({ length: 40 }, () => words(rand, 6)).join('\n')}\n`),
      '02-empty.txt': Buffer.alloc(0),
      '03-no-newline.txt': Buffer.from(Array.from({ length: 30 }, () => words(rand, 4)).join('\n')),
      '04-empty.txt': Buffer.alloc(0),
    };
    const started = await Promise.all([
      startJob(t, {
        name: 'empties-wc',
        files,
        mapper: 'wc_map.sh',
        combiner: 'wc_sum.sh',
        reducer: 'wc_sum.sh',
        ship: [WC_MAP, WC_SUM],
        extra: { numReducers: 2 },
      }),
      startJob(t, { name: 'empties-id', files, mapper: 'cat', reducer: 'cat' }),
    ]);
    const [wc, id] = await Promise.all(started.map((j) => finishJob(t, j)));
    expect(sortedLines(wc!.parts)).toEqual(sortedLines(reference(files, WC_MAP, WC_SUM)));
    expect(sortedLines(id!.parts)).toEqual(sortedLines(reference(files, 'cat', 'cat')));
    expect(id!.job.counters[CTR('MAP_INPUT_RECORDS')]).toBe(70);
    expect(wc!.job.numMaps).toBe(2); // empty objects get no map task
  });
});
