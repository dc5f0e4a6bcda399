/**
 * The benchmark harness runs end to end on a tiny corpus: every figure is present with a
 * sane type, every framework run's output equals its anchor's (the harness compares word
 * counts and throws otherwise), and each map attempt made exactly one intermediate PUT.
 * Benchmarks are not timed tests: no assertion here is about speed.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { jobCallStats, parseCallLog } from '../../scripts/bench/calls.js';
import { loadWordList, writeCorpus } from '../../scripts/bench/corpus.js';
import { costModel, emptyMix, PRICES } from '../../scripts/bench/cost.js';
import { runBenchmark } from '../../scripts/bench/harness.js';
import { type BenchResult, diffCounts, TARGETS } from '../../scripts/bench/results.js';
import { markdownTable, parseSize } from '../../scripts/bench/main.js';
import { ENDPOINT, REPO } from '../helpers/stack.js';

const workDir = mkdtempSync(path.join(os.tmpdir(), 'mr-bench-test-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe('benchmark harness', () => {
  it('generates the same corpus for the same seed, from the real word list', () => {
    const words = loadWordList(path.join(REPO, 'bench', 'wordlist.txt'));
    expect(words.length).toBeGreaterThan(5000);
    expect(words.slice(0, 3)).toEqual(['the', 'to', 'and']);
    const a = path.join(workDir, 'a.txt');
    const b = path.join(workDir, 'b.txt');
    expect(writeCorpus(a, { bytes: 10_000, words, seed: 7 })).toBe(10_000);
    writeCorpus(b, { bytes: 10_000, words, seed: 7 });
    const text = readFileSync(a, 'latin1');
    expect(readFileSync(b, 'latin1')).toBe(text);
    expect(text.endsWith('\n')).toBe(true);
    // Zipf: the most frequent word is far more common than a mid-list one.
    const count = (w: string) => text.split(/\s+/).filter((x) => x === w).length;
    expect(count('the')).toBeGreaterThan(20);
  });

  it('compares word counts and parses sizes', () => {
    expect(diffCounts('a\t1\nb\t2\n', 'b\t2\na\t1\n')).toBeUndefined();
    expect(diffCounts('a\t1\nb\t2\n', 'a\t1\nb\t3\n')).toMatch(/"b"/);
    expect(diffCounts('a\t1\n', 'a\t1\nc\t1\n')).toMatch(/"c"/);
    expect(parseSize('small')).toBe(16 * 1024 * 1024);
    expect(parseSize('256M')).toBe(256 * 1024 * 1024);
    expect(parseSize('64K')).toBe(64 * 1024);
  });

  it('attributes logged calls to tasks and leaves the data path out', () => {
    const lines = parseCallLog(
      [
        '100 1 dynamodb UpdateItem j1 m-00000 TASK - -',
        '101 1 s3 GetObject j1 m-00000 in/x bytes=0-9 -',
        '102 1 s3 PutObject j1 m-00000 tmp/j1/map/m-00000/attempt-1 - -',
        '103 1 dynamodb TransactWriteItems j1 m-00000 TASK+JOB - -',
        '104 1 dynamodb PutItem j1 m-00000 WORKER - hb',
        '105 1 sqs ReceiveMessage - - - - -',
        '106 1 s3 GetObject j1 r-00000 tmp/j1/map/m-00000/attempt-1 bytes=0-9 -',
        '107 1 s3 PutObject j1 r-00000 tmp/j1/out/r-00000/attempt-1 - -',
        '108 1 s3 PutObject j1 r-00000 out/_SUCCESS - -',
        '109 1 sqs ReceiveMessage - - - - -',
        '500 1 sqs ReceiveMessage - - - - -',
      ].join('\n'),
    );
    const st = jobCallStats(lines, { jobId: 'j1', mapTasks: 1, reduceTasks: 1, mapAttempts: 1 }, [100, 200]);
    expect(st.dataGets).toBe(2);
    expect(st.dataPuts).toBe(2);
    expect(st.s3PutsPerMapAttempt).toBe(1);
    // map: UpdateItem, TransactWriteItems, heartbeat PutItem; + half of the 2 idle receives.
    expect(st.apiCallsPerMapTask).toBe(4);
    // reduce: the _SUCCESS PUT; + 1 idle receive.
    expect(st.apiCallsPerReduceTask).toBe(2);
  });

  it('prices workers like the stack places them: an on-demand floor, Spot above it', () => {
    const none = emptyMix();
    const calls = { perMapTask: none, perReduceTask: none, heartbeatPerWorkerSecond: none, idlePerWorkerSecond: none };
    const input = { bytesPerCoreSecond: 20e6, calls, shuffleRatio: 0.01, outputRatio: 0.001, taskItemBytes: 600 };
    const onDemand = costModel({ ...input, useSpot: false });
    const mixed = costModel(input);
    // 1 TB at 20 MB/s per vCPU is 13.9 worker-hours at $0.04937 (1 vCPU + 2 GB).
    expect(onDemand.usd.fargate).toBeCloseTo((1e12 / 20e6 / 3600) * (PRICES.fargateVcpuHour + 2 * PRICES.fargateGbHour), 6);
    expect(mixed.assumptions).toMatchObject({ workers: 32, on_demand_workers: 1, spot_workers: 31 });
    const rate = 1 - (31 / 32) * PRICES.fargateSpotDiscount;
    expect(mixed.usd.fargate).toBeCloseTo(onDemand.usd.fargate! * rate, 6);
    expect(mixed.totalUsd - mixed.usd.fargate!).toBeCloseTo(onDemand.totalUsd - onDemand.usd.fargate!, 6);
  });

  it('runs every measurement on a tiny corpus, checking each output against its anchor', { timeout: 900_000 }, async () => {
    const result: BenchResult = await runBenchmark({
      sizeBytes: 256 * 1024,
      reps: 1,
      latencyJobs: 2,
      workDir,
      endpoint: ENDPOINT,
      startEmulator: false,
      seed: 42,
      wordListFile: path.join(REPO, 'bench', 'wordlist.txt'),
      rssSortBufferBytes: 16 * 1024 * 1024,
      workers: 2,
      // Straggler section: 0.5 s map tasks (10 s straggler) keep it short; its ratio is not asserted.
      stragglerMapSeconds: 0.5,
      log: () => {},
    });
    for (const name of Object.keys(TARGETS) as (keyof typeof TARGETS)[]) {
      expect(typeof result.figures[name], name).toBe('number');
      expect(Number.isFinite(result.figures[name]), name).toBe(true);
      expect(result.figures[name], name).toBeGreaterThan(0);
      expect(typeof result.met[name], name).toBe('boolean');
    }
    expect(result.details.outputs_match).toEqual({ module_vs_single_process: true, shell_vs_unix_pipeline: true });
    expect(result.figures.s3_puts_per_map_attempt).toBe(1);
    expect(result.details.calls_shell_wordcount.s3PutsPerMapAttempt).toBe(1);
    expect(result.config.map_tasks).toBeGreaterThanOrEqual(4);
    expect(result.details.small_job_latency_ms).toHaveLength(2);
    expect(result.details.rss.partition_over_buffer).toBeGreaterThanOrEqual(4);
    expect(result.details.cost.totalUsd).toBeGreaterThan(0);
    expect(result.details.straggler.outputs_identical).toBe(true);
    expect(result.details.straggler.seconds.speculation_on).toHaveLength(1);
    const table = markdownTable(result);
    for (const name of Object.keys(TARGETS)) expect(table).toContain(`| ${name} |`);
  });
});
