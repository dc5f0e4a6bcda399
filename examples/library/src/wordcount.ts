/**
 * A word-count job module. `defineJob` checks the functions against the framework's
 * types (MapFn, ReduceFn, CombineFn); the worker finds them on the default export.
 */
import { defineJob } from 'serverless-mapreduce/job';
import type { TaskContext } from 'serverless-mapreduce/job';

// Values can be iterated once: a large group is read back from disk in pieces.
const sum = (key: string, values: Iterable<string>, ctx: TaskContext) => {
  let n = 0;
  for (const v of values) n += Number(v);
  ctx.emit(key, String(n));
};

export default defineJob({
  map(line, ctx) {
    for (const word of line.toLowerCase().split(/[^a-z0-9']+/)) {
      if (word) ctx.emit(word, '1');
    }
    ctx.counter('WordCount', 'Lines', 1);
  },
  combine: sum,
  reduce: sum,
});
