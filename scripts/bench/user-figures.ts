/**
 * The figures of a job as users run it, on every corpus: `wordcount_e2e` and
 * `cpu_per_mib` through the CLI on a warm `local up` stack (e2e.ts), then the optional
 * peers on the same corpus file (peers.ts) once that stack is down, so that they do not
 * share the machine with idle workers.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureInputDir, type E2eRun, LocalUp, runE2e } from './e2e.js';
import { type PeerName, type PeerProbe, probePeers, runPeer } from './peers.js';
import { timedWithCpu } from './processes.js';
import { type BenchOptions, countInText } from './results.js';
import { formatCounts } from './single-process.js';
import type { CorpusFile } from './corpora.js';

export interface CorpusUserRuns {
  /** Files of the input directory (the corpus cut at line ends, one per map task). */
  readonly input_files: number;
  readonly single_process: Array<{ seconds: number; cpuSeconds: number }>;
  readonly e2e: E2eRun[];
  /** Wall seconds per peer that ran. */
  readonly peers: Partial<Record<PeerName, Array<{ seconds: number; cpuSeconds: number }>>>;
}

export interface UserFigures {
  readonly byCorpus: Record<string, CorpusUserRuns>;
  readonly peers: Record<PeerName, PeerProbe>;
}

const NOT_RUN: PeerProbe = { available: false, reason: 'peers not run (BenchOptions.peers false)' };

/** e2e runs on every corpus, then the peers; every output compared with the single process's on the same files. */
export async function measureUserFigures(
  o: BenchOptions,
  x: { root: string; singleJs: string; corpora: readonly CorpusFile[] },
  mapTasks: number,
): Promise<UserFigures> {
  const cli = path.join(x.root, 'bin', 'mapreduce.js');
  const module = path.join(x.root, 'examples', 'wordcount', 'wordcount.ts');
  const byCorpus: Record<string, CorpusUserRuns> = {};
  const expected: Record<string, string> = {};
  const stateDir = path.join(o.workDir, `e2e-state-${randomBytes(4).toString('hex')}`);
  o.log(`wordcount_e2e: \`mapreduce local up\` with ${o.workers} workers`);
  const up = await LocalUp.start(o, cli, `bench-e2e-${randomBytes(3).toString('hex')}`, stateDir);
  try {
    // Warm-up: one small run (loads the bundler, the workers' module cache, JIT).
    const warm = path.join(o.workDir, 'e2e-warmup');
    mkdirSync(warm, { recursive: true });
    const warmText = 'warm up the stack\nwarm workers\n';
    writeFileSync(path.join(warm, 'a.txt'), warmText);
    await runE2e(up, cli, module, [path.join(warm, 'a.txt')], path.join(o.workDir, 'e2e-warmup-out'), formatCounts(countInText(warmText)));
    for (const c of x.corpora) {
      const files = ensureInputDir(c.file, mapTasks);
      const anchorOut = path.join(o.workDir, `e2e-single-${c.name}.out`);
      const runs: CorpusUserRuns = { input_files: files.length, single_process: [], e2e: [], peers: {} };
      for (let rep = 0; rep < o.reps; rep++) {
        o.log(`${c.name}: rep ${rep + 1}/${o.reps}: single process on the input directory, then \`mapreduce run\``);
        runs.single_process.push(await timedWithCpu(process.execPath, [x.singleJs, ...files, anchorOut]));
        expected[c.name] = readFileSync(anchorOut, 'utf8');
        runs.e2e.push(await runE2e(up, cli, module, files, path.join(o.workDir, `e2e-out-${c.name}`), expected[c.name]!));
      }
      byCorpus[c.name] = runs;
    }
  } finally {
    await up.stop();
  }

  const probes: Record<PeerName, PeerProbe> =
    o.peers === false ? { lithops_localhost: NOT_RUN, pyspark_local2: NOT_RUN } : probePeers();
  for (const [name, probe] of Object.entries(probes) as Array<[PeerName, PeerProbe]>) {
    if (!probe.available) {
      o.log(`peer ${name} skipped: ${probe.reason}`);
      continue;
    }
    for (const c of x.corpora) {
      const times: Array<{ seconds: number; cpuSeconds: number }> = [];
      for (let rep = 0; rep < o.reps; rep++) {
        o.log(`${c.name}: rep ${rep + 1}/${o.reps}: peer ${name} ${probe.version}`);
        times.push(
          await runPeer(name, probe, { root: x.root, corpus: c.file, mapTasks, workers: o.workers, workDir: o.workDir, expected: expected[c.name]! }),
        );
      }
      byCorpus[c.name]!.peers[name] = times;
    }
  }
  return { byCorpus, peers: probes };
}
