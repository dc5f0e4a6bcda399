/**
 * Run the word-count module on a local directory and print the result.
 *
 *   npm run build && node dist/run-wordcount.js <input dir> <output dir> [--stack NAME]
 *
 * Without --stack it uses the local stack (`mapreduce local up`; AWS_ENDPOINT_URL and
 * MR_PREFIX select which one).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Connection, type ProgressEvent, runJob } from 'serverless-mapreduce';

const [input, output, flag, stack] = process.argv.slice(2);
if (!input || !output) {
  console.error('usage: node dist/run-wordcount.js <input dir> <output dir> [--stack NAME]');
  process.exit(2);
}
const connection: Connection = flag === '--stack' && stack ? { stack } : {};
// The job module is shipped as TypeScript source: the client bundles it.
const moduleFile = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'src', 'wordcount.ts');

const job = await runJob(
  { input, output, mapper: moduleFile, combiner: moduleFile, reducer: moduleFile, numReducers: 2, overwrite: true },
  connection,
  {
    onProgress: (e: ProgressEvent) =>
      console.error(`${e.phase}: map ${e.map.done}/${e.map.total}, reduce ${e.reduce.done}/${e.reduce.total}`),
  },
);
console.log(JSON.stringify({ jobId: job.jobId, status: job.status, counters: job.counters, costUsd: job.costUsd }));
process.exitCode = job.status === 'SUCCEEDED' ? 0 : 1;
