/**
 * The second benchmark corpus: synthetic words with a chosen vocabulary size, line
 * length and alphabet, so that the speed figures can be taken on shapes other than
 * English text (issue 14): 1k / 50k / 1M distinct words, 3 or 200 words per line,
 * ASCII or multi-byte UTF-8.
 *
 * Word `i` is the fixed-width base-N spelling of `i` in the alphabet (so words are
 * distinct by construction) followed by 0–5 seeded filler letters (so lengths vary
 * like real words). Ranks follow a Zipf law like the English corpus. Same options and
 * seed → byte-identical file.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { mulberry32 as prng } from '../../core/prng.js';
import { writeLines, zipfSampler } from './corpus.js';

/** 26 ASCII lowercase letters. */
const ASCII_ALPHABET = [...'abcdefghijklmnopqrstuvwxyz'];
/**
 * 32 letters of 1 to 3 UTF-8 bytes (Latin, Latin-1, Greek, Cyrillic, CJK). None is
 * whitespace for JavaScript's /\s/, Python's str.split() or `tr '[:space:]'`.
 */
const UTF8_ALPHABET = [...'aeiostàéîõüßçñøåαβγδλπωжщяэ中文字語本日月'];

export interface SyntheticSpec {
  /** Distinct words. */
  readonly vocabulary: number;
  /** Words on every line (the last line of the file may be shorter). */
  readonly wordsPerLine: number;
  /** Multi-byte UTF-8 letters in the words. */
  readonly utf8: boolean;
  /** Zipf exponent of the word ranks (0 = uniform). */
  readonly zipfExponent: number;
}

/**
 * The default second corpus: 1M distinct words on 200-word lines, ASCII. It is the
 * opposite corner from the English corpus (20k words, 6–14 words per line) on both axes
 * that decide a word count's per-byte cost: a large vocabulary defeats the combiner and
 * the repeat counting (a big shuffle, big reduce tables), long lines stress per-word work.
 */
export const DEFAULT_SYNTHETIC: SyntheticSpec = { vocabulary: 1_000_000, wordsPerLine: 200, utf8: false, zipfExponent: 1 };

const count = (key: string, s: string): number => {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s);
  if (!m) throw new Error(`synthetic corpus: ${key}: expected a count like 1000, 50k or 1M, got "${s}"`);
  return Math.round(Number(m[1]) * (m[2]?.toLowerCase() === 'k' ? 1e3 : m[2]?.toLowerCase() === 'm' ? 1e6 : 1));
};

/**
 * A synthetic spec from `vocab=50k,words=3,utf8,zipf=0.8` (any subset; the rest from
 * DEFAULT_SYNTHETIC). Throws with the accepted keys on anything else.
 */
export function parseSyntheticSpec(text: string): SyntheticSpec {
  let spec: SyntheticSpec = DEFAULT_SYNTHETIC;
  for (const part of text.split(',').filter((p) => p !== '')) {
    const [k, v = ''] = part.split('=');
    if (k === 'vocab') spec = { ...spec, vocabulary: count('vocab', v) };
    else if (k === 'words') spec = { ...spec, wordsPerLine: count('words', v) };
    else if (k === 'utf8' || k === 'ascii') spec = { ...spec, utf8: k === 'utf8' };
    else if (k === 'zipf' && Number.isFinite(Number(v)) && v !== '') spec = { ...spec, zipfExponent: Number(v) };
    else throw new Error(`synthetic corpus: unknown setting "${part}" (known: vocab=N, words=N, utf8, ascii, zipf=S)`);
  }
  if (spec.vocabulary < 1 || spec.wordsPerLine < 1 || spec.zipfExponent < 0) {
    throw new Error(`synthetic corpus: vocab and words must be ≥ 1 and zipf ≥ 0, got ${JSON.stringify(spec)}`);
  }
  return spec;
}

/** A short name for file names and result keys: `synthetic-v1M-w200-ascii`. */
export function syntheticName(s: SyntheticSpec): string {
  const n = (x: number) => (x % 1e6 === 0 ? `${x / 1e6}M` : x % 1e3 === 0 ? `${x / 1e3}k` : String(x));
  const z = s.zipfExponent === 1 ? '' : `-z${s.zipfExponent}`;
  return `synthetic-v${n(s.vocabulary)}-w${s.wordsPerLine}-${s.utf8 ? 'utf8' : 'ascii'}${z}`;
}

/** The vocabulary: `vocabulary` distinct words, word 0 the most frequent rank. */
export function syntheticWords(s: SyntheticSpec, seed: number): string[] {
  const alphabet = s.utf8 ? UTF8_ALPHABET : ASCII_ALPHABET;
  const base = alphabet.length;
  let width = 1;
  while (base ** width < s.vocabulary) width++;
  const rand = prng(seed ^ 0x5eed);
  const words = new Array<string>(s.vocabulary);
  for (let i = 0; i < s.vocabulary; i++) {
    let w = '';
    for (let d = 0, x = i; d < width; d++, x = Math.floor(x / base)) w = alphabet[x % base]! + w;
    const filler = Math.floor(rand() * 6);
    for (let f = 0; f < filler; f++) w += alphabet[Math.floor(rand() * base)]!;
    words[i] = w;
  }
  return words;
}

/**
 * Write up to `bytes` bytes of synthetic text to `file` (exactly `bytes` unless one
 * byte is left after a full line): lines of `wordsPerLine` words separated by one
 * space, each ending with '\n'. The last line is cut on a word boundary, never inside
 * a multi-byte letter: a word that does not fit is left out, and a run of ASCII 'x'
 * fills the line when no word fits. Returns the byte count.
 */
export function writeSyntheticCorpus(file: string, s: SyntheticSpec, bytes: number, seed: number): number {
  const words = syntheticWords(s, seed);
  const next = zipfSampler(words.length, s.zipfExponent, prng(seed));
  return writeLines(file, bytes, 'utf8', (room) => {
    const lineWords: string[] = [];
    let lineBytes = 0;
    for (let i = 0; i < s.wordsPerLine; i++) {
      const w = words[next()]!;
      const wb = Buffer.byteLength(w) + 1;
      if (lineBytes + wb > room) break;
      lineWords.push(w);
      lineBytes += wb;
    }
    // room 1 cannot hold a letter and its '\n': '' ends the file there.
    if (lineWords.length === 0) return room < 2 ? '' : `${'x'.repeat(room - 1)}\n`;
    return `${lineWords.join(' ')}\n`;
  });
}

/** The synthetic corpus file for these options under `dir`, generated once and reused. */
export function ensureSyntheticCorpus(dir: string, s: SyntheticSpec, bytes: number, seed: number): string {
  const file = path.join(dir, `corpus-${bytes}-seed${seed}-${syntheticName(s)}.txt`);
  if (existsSync(file) && statSync(file).size > 0) return file;
  writeSyntheticCorpus(file, s, bytes, seed);
  return file;
}
