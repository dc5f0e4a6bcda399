/**
 * Word count as a TypeScript module: `map`, `combine` and `reduce` run in-process
 * in the worker (the CLI bundles this file with esbuild before uploading it).
 *
 *   mapreduce run -i examples/data -o out \
 *     -m examples/wordcount/wordcount.ts -c examples/wordcount/wordcount.ts -r examples/wordcount/wordcount.ts
 */
import type { MapFn, ReduceFn } from '../../worker/module-api.js';

const WHITESPACE = /\s+/;

export const map: MapFn = (line, ctx) => {
  for (const word of line.split(WHITESPACE)) {
    if (word !== '') ctx.emit(word, '1');
  }
};

/** `counts` is an iterable streamed from the shuffle's merge (read it once), not an array. */
export const reduce: ReduceFn = (word, counts, ctx) => {
  let total = 0;
  for (const n of counts) total += Number(n);
  ctx.emit(word, String(total));
};

/** Summing is associative, so the reducer doubles as the combiner. */
export const combine: ReduceFn = reduce;
