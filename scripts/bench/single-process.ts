/**
 * The zero-overhead anchor: word count as one plain Node program, no framework.
 * Reads the file in 1 MiB chunks, splits the text on /\s+/ (the rule of
 * examples/wordcount/wordcount.ts), counts into a Map, and writes `word\tcount`
 * lines sorted by word.
 *
 *   node dist/scripts/bench/single-process.js <input>... <output>
 *
 * With several inputs (the files of an input directory) it counts them all, one after another.
 */
import { createReadStream, writeFileSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { fileURLToPath } from 'node:url';

const WHITESPACE = /\s+/;

export async function countWords(input: string, counts = new Map<string, number>()): Promise<Map<string, number>> {
  const decoder = new StringDecoder('utf8');
  let carry = '';
  const add = (words: string[], last: number) => {
    for (let i = 0; i < last; i++) {
      const w = words[i]!;
      if (w !== '') counts.set(w, (counts.get(w) ?? 0) + 1);
    }
  };
  for await (const chunk of createReadStream(input, { highWaterMark: 1024 * 1024 })) {
    const words = (carry + decoder.write(chunk as Buffer)).split(WHITESPACE);
    // The last piece may be a word cut by the chunk boundary: keep it for the next chunk.
    carry = words[words.length - 1]!;
    add(words, words.length - 1);
  }
  const words = (carry + decoder.end()).split(WHITESPACE);
  add(words, words.length);
  return counts;
}

export function formatCounts(counts: Map<string, number>): string {
  const words = [...counts.keys()].sort();
  let out = '';
  for (const w of words) out += `${w}\t${counts.get(w)}\n`;
  return out;
}

async function main(argv: string[]): Promise<void> {
  const inputs = argv.slice(0, -1);
  const output = argv[argv.length - 1];
  if (inputs.length === 0 || !output) throw new Error('usage: single-process.js <input>... <output>');
  const counts = new Map<string, number>();
  for (const input of inputs) await countWords(input, counts);
  writeFileSync(output, formatCounts(counts));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
