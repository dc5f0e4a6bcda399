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
import { costModel, emptyMix, PRICES, teraSortCostPerTb } from '../../scripts/bench/cost.js';
import { SECONDS_PER_MONTH, STORAGE_MONTHS } from '../../core/cost.js';
import { runBenchmark } from '../../scripts/bench/harness.js';
import { parseCorpusOption } from '../../scripts/bench/corpora.js';
import type { CorpusDetails } from '../../scripts/bench/corpus-figures.js';
import {
  type BenchResult,
  diffCounts,
  type FigureName,
  leastFavourable,
  OPTIONAL_FIGURES,
  PER_CORPUS_FIGURES,
  TARGETS,
} from '../../scripts/bench/results.js';
import { markdownTable, parseSize } from '../../scripts/bench/main.js';
import {
  DEFAULT_SYNTHETIC,
  parseSyntheticSpec,
  syntheticName,
  syntheticWords,
  writeSyntheticCorpus,
} from '../../scripts/bench/synthetic-corpus.js';
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

  it('generates the synthetic corpus byte-identically per seed, with the asked vocabulary, line length and UTF-8', () => {
    const spec = parseSyntheticSpec('vocab=1k,words=3,utf8');
    expect(spec).toEqual({ ...DEFAULT_SYNTHETIC, vocabulary: 1000, wordsPerLine: 3, utf8: true });
    expect(syntheticName(spec)).toBe('synthetic-v1k-w3-utf8');
    expect(new Set(syntheticWords(spec, 1)).size).toBe(1000);
    expect(new Set(syntheticWords(DEFAULT_SYNTHETIC, 1)).size).toBe(1_000_000);
    const a = path.join(workDir, 's1.txt');
    const b = path.join(workDir, 's2.txt');
    const c = path.join(workDir, 's3.txt');
    expect(writeSyntheticCorpus(a, spec, 50_000, 7)).toBe(50_000);
    writeSyntheticCorpus(b, spec, 50_000, 7);
    writeSyntheticCorpus(c, spec, 50_000, 8);
    const bytes = readFileSync(a);
    expect(readFileSync(b).equals(bytes)).toBe(true);
    expect(readFileSync(c).equals(bytes)).toBe(false);
    const text = bytes.toString('utf8');
    expect(Buffer.from(text, 'utf8').equals(bytes)).toBe(true); // valid UTF-8, no cut letter
    expect(text.length).toBeLessThan(bytes.length); // multi-byte letters
    const lines = text.split('\n').slice(0, -1);
    expect(text.endsWith('\n')).toBe(true);
    // Only the last two lines may be short (the file ends at exactly 50,000 bytes).
    for (const line of lines.slice(0, -2)) expect(line.split(' ')).toHaveLength(3);
    const vocab = new Set(text.split(/\s+/).filter((w) => w !== ''));
    expect(vocab.size).toBeLessThanOrEqual(1000);
    expect(vocab.size).toBeGreaterThan(300);
    const long = path.join(workDir, 's4.txt');
    writeSyntheticCorpus(long, parseSyntheticSpec('words=200'), 100_000, 7);
    const longText = readFileSync(long, 'latin1');
    expect(longText.split('\n')[0]!.split(' ')).toHaveLength(200);
    expect(/^[a-z \n]*$/.test(longText)).toBe(true);
    expect(() => parseSyntheticSpec('vocab=lots')).toThrow(/vocab/);
    expect(() => parseSyntheticSpec('color=red')).toThrow(/known: vocab/);
    expect(parseCorpusOption('both')).toEqual(['english', 'synthetic']);
    expect(() => parseCorpusOption('french')).toThrow(/english, synthetic or both/);
  });

  it('holds a per-corpus figure to its least favourable corpus', () => {
    expect(leastFavourable('wordcount_e2e', [1.7, 0.9])).toBe(0.9);
    expect(leastFavourable('cpu_per_mib', [1.1, 1.4])).toBe(1.4);
    expect(leastFavourable('vs_lithops_localhost', [1.2, null])).toBeNull();
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

  it('charges the shuffle for the job wall time (its tmp/ is deleted at success) and the output for a day', () => {
    const none = emptyMix();
    const calls = { perMapTask: none, perReduceTask: none, heartbeatPerWorkerSecond: none, idlePerWorkerSecond: none };
    const c = costModel({ bytesPerCoreSecond: 20e6, calls, shuffleRatio: 1, outputRatio: 1, taskItemBytes: 600 });
    const wallSeconds = 1e12 / 20e6 / 32; // 32 workers of 1 vCPU
    const gb = 1e12 / 1e9;
    expect(c.usd.s3_storage).toBeCloseTo((gb * wallSeconds / SECONDS_PER_MONTH + gb * STORAGE_MONTHS) * PRICES.s3GbMonth, 6);
    // A day of the shuffle (the lifecycle rule alone) would cost as much again as the output's day.
    expect(c.usd.s3_storage!).toBeLessThan(2 * gb * STORAGE_MONTHS * PRICES.s3GbMonth * 0.6);
  });

  it("charges input, shuffle and output for the wall time alone with storage 'run' (CloudSort's accounting)", () => {
    const none = emptyMix();
    const calls = { perMapTask: none, perReduceTask: none, heartbeatPerWorkerSecond: none, idlePerWorkerSecond: none };
    const input = { bytesPerCoreSecond: 20e6, calls, shuffleRatio: 1, outputRatio: 1, taskItemBytes: 600 };
    const run = costModel({ ...input, storage: 'run' });
    const day = costModel(input);
    const wallSeconds = 1e12 / 20e6 / 32;
    const gb = 1e12 / 1e9;
    expect(run.usd.s3_storage).toBeCloseTo(((3 * gb * wallSeconds) / SECONDS_PER_MONTH) * PRICES.s3GbMonth, 6);
    expect(run.assumptions.storage).toBe('run');
    // Everything but storage is the same model.
    expect(run.totalUsd - run.usd.s3_storage!).toBeCloseTo(day.totalUsd - day.usd.s3_storage!, 6);
    expect(teraSortCostPerTb({ bytesPerCoreSecond: 20e6, calls, shuffleRatio: 1, taskItemBytes: 600 }).assumptions.storage).toBe('run');
  });

  it('runs every measurement on two tiny corpora, checking each output against its anchor', { timeout: 900_000 }, async () => {
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
      corpora: ['english', 'synthetic'],
      synthetic: parseSyntheticSpec('vocab=1k,words=3,utf8'),
      peers: false,
      // Straggler section: 0.5 s map tasks (10 s straggler) keep it short; its ratio is not asserted.
      stragglerMapSeconds: 0.5,
      log: () => {},
    });
    for (const name of Object.keys(TARGETS) as FigureName[]) {
      if (OPTIONAL_FIGURES.includes(name)) {
        expect(result.figures[name], name).toBeNull();
        expect(result.met[name], name).toBeNull();
        continue;
      }
      expect(typeof result.figures[name], name).toBe('number');
      expect(Number.isFinite(result.figures[name]), name).toBe(true);
      expect(result.figures[name], name).toBeGreaterThan(0);
      expect(typeof result.met[name], name).toBe('boolean');
    }
    expect(result.corpora.map((c) => c.name)).toEqual(['english', 'synthetic-v1k-w3-utf8']);
    for (const c of result.corpora) {
      expect(c.bytes).toBe(256 * 1024);
      const f = result.figures_by_corpus[c.name]!;
      for (const k of PER_CORPUS_FIGURES) {
        if (OPTIONAL_FIGURES.includes(k)) expect(f[k], `${c.name} ${k}`).toBeNull();
        else expect(f[k], `${c.name} ${k}`).toBeGreaterThan(0);
      }
      const d = result.details.by_corpus[c.name] as CorpusDetails;
      expect(d.wordcount_e2e.framework_s).toHaveLength(1);
      expect(d.wordcount_e2e.input_files).toBe(result.config.map_tasks);
      // Both halves of cpu_per_mib were found in /proc: the workers and the emulator did work.
      expect(d.cpu_s_per_mib.workers).toBeGreaterThan(0);
      expect(d.cpu_s_per_mib.emulator).toBeGreaterThan(0);
      expect(d.small_job_16mib.bytes).toBe(256 * 1024);
    }
    expect(result.peers.lithops_localhost?.skipped).toMatch(/not run/);
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
    expect(table).toContain('| synthetic-v1k-w3-utf8 |');
  });
});
