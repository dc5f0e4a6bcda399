/**
 * The benchmark corpus: deterministic text whose words follow a Zipf law over a real
 * English word list (bench/wordlist.txt, most frequent word first), so that word
 * lengths and the key distribution look like real text: a few keys very hot, a long
 * tail of rare ones.
 *
 * Same seed, size and word list → byte-identical file, on any machine.
 */
import { closeSync, existsSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 as prng } from '../../core/prng.js';

export const MIB = 1024 * 1024;

/** Words of a word list file: one per line, `#` comment lines and blanks skipped. */
export function loadWordList(file: string): string[] {
  const words = readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (words.length < 100) throw new Error(`${file} holds only ${words.length} words`);
  for (const w of words) {
    if (/\s/.test(w)) throw new Error(`${file}: word "${w}" contains whitespace`);
  }
  return words;
}

export interface CorpusOptions {
  readonly bytes: number;
  readonly words: readonly string[];
  readonly seed: number;
  /** Zipf exponent: P(rank k) ∝ 1 / k^s. */
  readonly zipfExponent?: number;
  /** Words per line, uniform in [min, max]. */
  readonly wordsPerLine?: readonly [number, number];
}

/** A sampler of word ranks with P(k) ∝ 1/k^s (k = 0 is the most frequent; s = 0 is uniform). */
export function zipfSampler(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / (k + 1) ** s;
    cdf[k] = sum;
  }
  for (let k = 0; k < n; k++) cdf[k] /= sum;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/**
 * Write the corpus to `file`: ASCII lines of words separated by one space, each line
 * ending with '\n', until `bytes` is reached (the last line is cut to end exactly there,
 * always on a word boundary and with '\n'). Returns the byte count.
 */
export function writeCorpus(file: string, o: CorpusOptions): number {
  const rand = prng(o.seed);
  const next = zipfSampler(o.words.length, o.zipfExponent ?? 1.0, rand);
  const [minW, maxW] = o.wordsPerLine ?? [6, 14];
  return writeLines(file, o.bytes, 'latin1', (room) => {
    const n = minW + Math.floor(rand() * (maxW - minW + 1));
    let line = o.words[next()]!;
    for (let i = 1; i < n; i++) line += ` ${o.words[next()]!}`;
    line += '\n';
    // Shorten the last line to fit: drop words, keep at least one char and the '\n'.
    return line.length > room ? fitLine(line, room) : line;
  });
}

/**
 * Write the lines `nextLine(room)` returns (`room`: bytes left before `bytes`) to `file`
 * in ~1 MiB writes, through a temporary file renamed at the end, until `bytes` are
 * written or `nextLine` returns ''. Returns the byte count.
 */
export function writeLines(file: string, bytes: number, encoding: 'latin1' | 'utf8', nextLine: (room: number) => string): number {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w');
  let written = 0;
  try {
    let chunk: string[] = [];
    let chunkBytes = 0;
    while (written + chunkBytes < bytes) {
      const line = nextLine(bytes - written - chunkBytes);
      if (line === '') break;
      chunk.push(line);
      chunkBytes += Buffer.byteLength(line, encoding);
      if (chunkBytes >= MIB) {
        written += writeSync(fd, chunk.join(''), null, encoding);
        chunk = [];
        chunkBytes = 0;
      }
    }
    if (chunk.length > 0) written += writeSync(fd, chunk.join(''), null, encoding);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  return written;
}

/** The longest prefix of whole words of `line` that fits in `room` bytes with its '\n' ('' if none). */
function fitLine(line: string, room: number): string {
  const words = line.slice(0, -1).split(' ');
  let out = '';
  for (const w of words) {
    const cand = out === '' ? w : `${out} ${w}`;
    if (cand.length + 1 > room) break;
    out = cand;
  }
  if (out === '' && room >= 2) out = words[0]!.slice(0, room - 1);
  return out === '' ? '' : `${out}\n`;
}

/**
 * `[start, end)` byte ranges cutting `data` into at most `parts` pieces of about equal
 * size, each cut right after a '\n' (like an input directory of whole-line files).
 */
export function cutAtLines(data: Buffer, parts: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let start = 0;
  for (let i = 0; i < parts && start < data.length; i++) {
    let end = i === parts - 1 ? data.length : Math.ceil(((i + 1) * data.length) / parts);
    if (end < data.length) {
      const nl = data.indexOf(0x0a, Math.max(start, end - 1));
      end = nl < 0 ? data.length : nl + 1;
    }
    out.push([start, end]);
    start = end;
  }
  return out;
}

/** The corpus file for these options under `dir`, generated once and reused. */
export function ensureCorpus(dir: string, o: CorpusOptions & { readonly wordListName: string }): string {
  const file = path.join(
    dir,
    `corpus-${o.bytes}-seed${o.seed}-s${o.zipfExponent ?? 1}-${o.wordListName.replace(/[^A-Za-z0-9_.-]/g, '_')}.txt`,
  );
  if (existsSync(file) && statSync(file).size > 0) return file;
  writeCorpus(file, o);
  return file;
}

/**
 * The byte length of the longest prefix of `data` made of whole lines whose word count
 * output (`word\t1\n` per word) is at least `targetMapOutputBytes`, or all of it.
 */
export function prefixForMapOutput(data: Buffer, targetMapOutputBytes: number): number {
  let words = 0;
  let inWord = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    const space = c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
    if (!space && !inWord) words++;
    inWord = !space;
    if (c === 0x0a && i + 1 + 2 * words >= targetMapOutputBytes) return i + 1;
  }
  return data.length;
}

/** Bytes of `word\t1\n` lines a word count mapper emits for `data` (ASCII words, single separators). */
export function wordCountMapOutputBytes(data: Buffer): number {
  let words = 0;
  let wordBytes = 0;
  let inWord = false;
  for (let i = 0; i < data.length; i++) {
    const c = data[i]!;
    const space = c === 0x20 || c === 0x0a || c === 0x09 || c === 0x0d;
    if (!space) {
      wordBytes++;
      if (!inWord) words++;
    }
    inWord = !space;
  }
  return wordBytes + 3 * words;
}
