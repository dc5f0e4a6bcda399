/** The corpora of a run: the English Zipf corpus and the synthetic one, generated once per size and seed. */
import { statSync } from 'node:fs';
import path from 'node:path';
import { ensureCorpus, loadWordList } from './corpus.js';
import type { BenchOptions, CorpusInfo, CorpusKind } from './results.js';
import { DEFAULT_SYNTHETIC, ensureSyntheticCorpus, syntheticName } from './synthetic-corpus.js';

export const DEFAULT_CORPORA: readonly CorpusKind[] = ['english', 'synthetic'];

/** A corpus of the run and its file. */
export interface CorpusFile extends CorpusInfo {
  readonly file: string;
}

/** `english`, `synthetic` or `both` (the --corpus option) as the list of corpora. */
export function parseCorpusOption(s: string): CorpusKind[] {
  if (s === 'both') return [...DEFAULT_CORPORA];
  if (s === 'english' || s === 'synthetic') return [s];
  throw new Error(`--corpus: expected english, synthetic or both, got "${s}"`);
}

/** Generate (or reuse) the run's corpora; the English word list's size is returned for the config. */
export function prepareCorpora(o: BenchOptions, root: string): { corpora: CorpusFile[]; englishWords: number } {
  const words = loadWordList(o.wordListFile);
  const corpora: CorpusFile[] = [];
  for (const kind of o.corpora ?? DEFAULT_CORPORA) {
    if (kind === 'english') {
      const file = ensureCorpus(o.workDir, { bytes: o.sizeBytes, words, seed: o.seed, wordListName: path.basename(o.wordListFile) });
      const description = `Zipf (s = 1) over the ${words.length} words of ${path.relative(root, o.wordListFile)}, 6-14 words per line, ASCII`;
      corpora.push({ name: 'english', file, bytes: statSync(file).size, description });
    } else {
      const spec = o.synthetic ?? DEFAULT_SYNTHETIC;
      const file = ensureSyntheticCorpus(o.workDir, spec, o.sizeBytes, o.seed);
      const description =
        `${spec.vocabulary} synthetic distinct words, Zipf (s = ${spec.zipfExponent}), ${spec.wordsPerLine} words per line, ` +
        (spec.utf8 ? 'UTF-8 letters of 1-3 bytes' : 'ASCII');
      corpora.push({ name: syntheticName(spec), file, bytes: statSync(file).size, description });
    }
  }
  if (corpora.length === 0) throw new Error('the benchmark needs at least one corpus');
  return { corpora, englishWords: words.length };
}
