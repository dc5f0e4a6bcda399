/**
 * A word-count job module. `defineJob` checks the functions against the framework's
 * types (MapFn, ReduceFn, CombineFn); the worker finds them on the default export.
 */
import { defineJob } from 'serverless-mapreduce/job';
import type { TaskContext } from 'serverless-mapreduce/job';

const sum = (key: string, values: string[], ctx: TaskContext) => {
  ctx.emit(key, String(values.reduce((n, v) => n + Number(v), 0)));
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
