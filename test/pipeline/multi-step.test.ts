/**
 * Multi-step jobs (issue 12, item 3) on the emulator, workers as processes: a 3-step
 * chain equals the three steps run by hand as Unix pipelines; per-step progress is on
 * the one job record; a worker SIGKILLed in the middle of step 2 leaves the output
 * byte-identical; output compression writes part-NNNNN.gz that decompress to the
 * uncompressed job's output while the intermediate step outputs stay plain text.
 */
import { writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderReportHtml } from '../../cli/report-html.js';
import { buildJobReport } from '../../core/job-report.js';
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord, TaskRecord } from '../../core/model.js';
import { committedStats } from '../../core/speculation.js';
import { startFaultStack } from '../helpers/emulators.js';
import { putScript, syntheticText } from '../helpers/index-job.js';
import { unixPipeline, type TestStack } from '../helpers/stack.js';
import { waitFor } from '../helpers/wait.js';
import { finish, saveWorkerLogs } from '../helpers/worker-logs.js';
import { exited, signalWorker } from '../helpers/worker-processes.js';

const WC_MAP = `#!/bin/sh
export LC_ALL=C
awk '{ for (i = 1; i <= NF; i++) print $i "\\t1" }'
`;
/** Sums the values of each key of sorted input, streaming (deterministic output order). */
const SUM_REDUCE = `#!/bin/sh
export LC_ALL=C
awk -F '\\t' 'NR > 1 && $1 != k { print k "\\t" s; s = 0 } { k = $1; s += $2 } END { if (NR > 0) print k "\\t" s }'
`;
/** word<TAB>count → count<TAB>word; sleeps first when STEP2_SLEEP is set (the kill test). */
const SWAP_MAP = `#!/bin/sh
export LC_ALL=C
sleep "\${STEP2_SLEEP:-0}"
awk -F '\\t' '{ print $2 "\\t" $1 }'
`;
const COUNT_MAP = `#!/bin/sh
export LC_ALL=C
awk -F '\\t' '{ print $1 "\\t1" }'
`;

describe('multi-step jobs', () => {
  let t: TestStack;
  let base: Omit<ManifestInput, 'output'>;
  const files: Record<string, Buffer> = {};
  for (let f = 0; f < 4; f++) files[`part-${f}.txt`] = syntheticText(150, 7 + f);

  beforeAll(async () => {
    t = await startFaultStack({ workers: 2 });
    const code = [
      await putScript(t, 'code/steps/wc_map.sh', WC_MAP),
      await putScript(t, 'code/steps/sum_reduce.sh', SUM_REDUCE),
      await putScript(t, 'code/steps/swap_map.sh', SWAP_MAP),
      await putScript(t, 'code/steps/count_map.sh', COUNT_MAP),
    ];
    base = {
      input: await t.putInput('in/steps/', files),
      files: code,
      numMappers: 4,
      numReducers: 2,
      steps: [
        // 1: word count, 2 reducers; 2: words by count, reducer `cat` (free); 3: how many words have each count.
        { mapper: 'wc_map.sh', reducer: 'sum_reduce.sh', combiner: 'sum_reduce.sh' },
        { mapper: 'swap_map.sh', reducer: 'cat' },
        { mapper: 'count_map.sh', reducer: 'sum_reduce.sh', numReducers: 1 },
      ],
    } as Omit<ManifestInput, 'output'>;
  });

  afterAll(async () => {
    saveWorkerLogs(t, 'multi-step');
    await t?.stop();
  });

  /** The three steps run by hand: each step's whole output is the next one's input. */
  function byHand(): Buffer {
    return byHandSteps().at(-1)!;
  }

  /** The input and each step's output, run by hand. */
  function byHandSteps(): Buffer[] {
    const dir = t.dir;
    const sh = (name: string, body: string) => {
      const p = `${dir}/${name}`;
      writeFileSync(p, body);
      return `sh ${p}`;
    };
    const input = Buffer.concat(Object.keys(files).sort().map((k) => files[k]!));
    const one = unixPipeline(input, sh('wc_map.sh', WC_MAP), sh('sum_reduce.sh', SUM_REDUCE));
    const two = unixPipeline(one, sh('swap_map.sh', SWAP_MAP), 'cat');
    return [input, one, two, unixPipeline(two, sh('count_map.sh', COUNT_MAP), sh('sum_reduce.sh', SUM_REDUCE))];
  }

  let clean: Buffer[];
  let cleanJob: JobRecord;

  it('a 3-step job: output equals the three steps run by hand; one job record with per-step progress', async () => {
    const output = `s3://${t.bucket}/out/steps-clean/`;
    // Keeps tmp/ after success (mapreduce.task.files.preserve.filepattern), to look at the steps' outputs.
    const jobId = await t.submit({ ...base, output, jobconf: { 'mapreduce.task.files.preserve.filepattern': '.*' } } as ManifestInput);
    cleanJob = await finish(t, jobId, 150_000);
    expect(cleanJob.status, cleanJob.reason).toBe('SUCCEEDED');
    clean = await t.readParts(output, 1);
    expect(clean[0]!.toString('latin1')).toBe(byHand().toString('latin1'));
    expect(clean[0]!.length).toBeGreaterThan(0);

    // One record: the last step current, the two before it summarised with their task counts.
    expect(cleanJob.step).toBe(2);
    const tasks = await t.s.tasks.list(jobId);
    const count = (re: RegExp) => tasks.filter((x) => re.test(x.taskId)).length;
    const step1Maps = count(/^m-/);
    expect(step1Maps).toBeGreaterThanOrEqual(4);
    expect(cleanJob.stepsDone?.map((x) => [x.numMaps, x.numReduces])).toEqual([
      [step1Maps, 2],
      [2, 2], // step 2 reads step 1's two parts, one map each
    ]);
    expect([cleanJob.numMaps, cleanJob.numReduces, cleanJob.mapsCommitted, cleanJob.reducesCommitted]).toEqual([2, 1, 2, 1]);
    // The committed-attempt sums (speculation's reference) are the last step's, like the counts: each step starts without.
    expect([committedStats(cleanJob, 'map').count, committedStats(cleanJob, 'reduce').count]).toEqual([2, 1]);
    // Task ids never collide across steps: each step's tasks carry its prefix and step.
    expect([/^r-/, /^s2-m-/, /^s2-r-/, /^s3-m-/, /^s3-r-/].map(count)).toEqual([2, 2, 2, 2, 1]);
    expect(tasks.length).toBe(step1Maps + 9);
    expect(tasks.filter((x) => x.taskId.startsWith('s3-')).every((x) => x.step === 2)).toBe(true);
    expect(tasks.every((x) => x.status === 'COMMITTED')).toBe(true);
    // Only the last step writes the user's output; the steps before it stay under tmp/.
    const outKeys = (await t.blobs.list(t.bucket, 'out/steps-clean/')).map((o) => o.key).sort();
    expect(outKeys).toEqual(['out/steps-clean/_SUCCESS', 'out/steps-clean/part-00000']);
    const stepKeys = (await t.blobs.list(t.bucket, `tmp/${jobId}/steps/`)).map((o) => o.key.slice(`tmp/${jobId}/`.length)).sort();
    expect(stepKeys).toEqual(['steps/1/part-00000', 'steps/1/part-00001', 'steps/2/part-00000', 'steps/2/part-00001']);

    // The job report, per step: progress, spans that tile the job, and each step's own
    // counters, checked against the steps run by hand (lines in = the step before's lines out).
    const report = buildJobReport({ job: cleanJob, tasks, now: Date.now() });
    expect(report.steps.map((x) => [x.step, x.state, x.numMaps, x.mapsCommitted, x.numReduces, x.reducesCommitted])).toEqual([
      [1, 'done', step1Maps, step1Maps, 2, 2],
      [2, 'done', 2, 2, 2, 2],
      [3, 'done', 2, 2, 1, 1],
    ]);
    expect(report.steps.map((x) => x.attempts)).toEqual([step1Maps + 2, 4, 3]);
    expect(report.steps[0]!.start).toBe(0);
    expect(report.steps[1]!.start).toBe(report.steps[0]!.end);
    expect(report.steps[2]!.start).toBe(report.steps[1]!.end);
    expect(report.steps[2]!.end).toBe((Date.parse(cleanJob.finishedAt!) - Date.parse(cleanJob.createdAt)) / 1000);
    const lineCount = (b: Buffer) => b.toString('latin1').split('\n').filter((l) => l !== '').length;
    const [input, ...outputs] = byHandSteps().map(lineCount);
    expect(report.steps.map((x) => x.counters?.['mapreduce.MAP_INPUT_RECORDS'])).toEqual([input, outputs[0], outputs[1]]);
    expect(report.steps.map((x) => x.counters?.['mapreduce.REDUCE_OUTPUT_RECORDS'])).toEqual(outputs);
    const html = await renderReportHtml(report);
    for (const n of [1, 2, 3]) {
      expect(html).toContain(`<tr data-step="${n}" data-state="done">`);
      expect(html).toContain(`<div class="step-counters" data-step="${n}"><h3>Step ${n} counters</h3>`);
    }
  }, 200_000);

  it('a worker SIGKILLed in the middle of step 2: the task is redone and the output is byte-identical', async () => {
    const output = `s3://${t.bucket}/out/steps-kill/`;
    const jobId = await t.submit({ ...base, output, env: { STEP2_SLEEP: '2' } } as ManifestInput);
    const victim = await waitFor(
      `a step-2 map task of ${jobId} running`,
      async () => {
        const now = Date.now();
        const running = (await t.s.tasks.list(jobId, 'map', 1)).filter((x) => x.status === 'RUNNING' && x.owner && (x.claimedAt ?? now) <= now - 300);
        return running[0] as (TaskRecord & { owner: string }) | undefined;
      },
      { timeoutMs: 120_000, intervalMs: 50 },
    );
    const child = signalWorker(t, victim.owner, 'SIGKILL');
    await exited(child);
    expect(child.signalCode).toBe('SIGKILL');
    t.stack.spawnWorker();

    const job = await finish(t, jobId, 150_000);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const task = (await t.s.tasks.list(jobId, 'map', 1)).find((x) => x.taskId === victim.taskId);
    expect(task).toMatchObject({ status: 'COMMITTED', stalls: 1, failures: 0, step: 1 });
    expect(task?.committedAttempt).toBeGreaterThan(victim.attempt);
    expect(Buffer.compare((await t.readParts(output, 1))[0]!, clean[0]!)).toBe(0);
  }, 200_000);

  it('output compression: part-00000.gz decompresses to the uncompressed output; step outputs stay plain', async () => {
    const output = `s3://${t.bucket}/out/steps-gz/`;
    const jobconf = { 'mapreduce.task.files.preserve.filepattern': '.*', 'mapreduce.output.fileoutputformat.compress': 'true', 'mapreduce.output.fileoutputformat.compress.codec': 'org.apache.hadoop.io.compress.GzipCodec' };
    const jobId = await t.submit({ ...base, output, jobconf } as ManifestInput);
    const job = await finish(t, jobId, 150_000);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const keys = (await t.blobs.list(t.bucket, 'out/steps-gz/')).map((o) => o.key).sort();
    expect(keys).toEqual(['out/steps-gz/_SUCCESS', 'out/steps-gz/part-00000.gz']);
    const gz = Buffer.concat((await (await t.blobs.getObject(t.bucket, 'out/steps-gz/part-00000.gz')).toArray()) as Buffer[]);
    expect(gz.subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));
    expect(Buffer.compare(gunzipSync(gz), clean[0]!)).toBe(0);
    const step1 = await t.blobs.getText(t.bucket, `tmp/${jobId}/steps/1/part-00000`);
    expect(step1).toMatch(/^[a-z]+\t\d+\n/);
  }, 200_000);
});
