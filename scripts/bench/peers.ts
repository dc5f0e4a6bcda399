/**
 * Optional peer anchors (issue 14): the same word count with Lithops on its localhost
 * backend (2 processes) and with PySpark `local[2]`, each timed as a whole process from
 * the corpus file to its word counts. A peer that is not installed is skipped with the
 * reason; a peer whose output differs from the single process's fails the run, like
 * every other anchor. Versions are recorded in the result.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { timedWithCpu } from './processes.js';
import { diffCounts } from './results.js';

export type PeerName = 'lithops_localhost' | 'pyspark_local2';

/** A peer that can run (its version and how to start it), or the reason it cannot. */
export type PeerProbe =
  | { readonly available: true; readonly version: string; readonly command: string }
  | { readonly available: false; readonly reason: string };

const python = () => process.env.MR_BENCH_PYTHON || 'python3';

function pyProbe(code: string): { ok: true; out: string } | { ok: false; err: string } {
  const r = spawnSync(python(), ['-c', code], { encoding: 'utf8', timeout: 60_000 });
  if (r.error) return { ok: false, err: `${python()}: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, err: (r.stderr.trim().split('\n').pop() ?? '').slice(0, 300) };
  return { ok: true, out: r.stdout.trim() };
}

/** Which peers are installed, and their versions (`pip install -r requirements-bench.txt`). */
export function probePeers(): Record<PeerName, PeerProbe> {
  const lithops = pyProbe('import lithops; print(lithops.__version__)');
  const spark = pyProbe('import os, pyspark; print(pyspark.__version__); print(os.path.dirname(pyspark.__file__))');
  let sparkProbe: PeerProbe;
  if (!spark.ok) sparkProbe = { available: false, reason: `pyspark is not installed (${spark.err})` };
  else {
    const java = spawnSync('java', ['-version'], { encoding: 'utf8', timeout: 60_000 });
    const [version, dir] = spark.out.split('\n');
    sparkProbe =
      java.status === 0
        ? { available: true, version: version!, command: path.join(dir!, 'bin', 'spark-submit') }
        : { available: false, reason: `pyspark ${version} needs Java, and \`java -version\` failed` };
  }
  return {
    lithops_localhost: lithops.ok
      ? { available: true, version: lithops.out, command: python() }
      : { available: false, reason: `lithops is not installed (${lithops.err})` },
    pyspark_local2: sparkProbe,
  };
}

export interface PeerJob {
  readonly root: string;
  readonly corpus: string;
  /** Map tasks of our job: Lithops gets as many chunks. */
  readonly mapTasks: number;
  readonly workers: number;
  readonly workDir: string;
  /** The single process's output, which the peer's word counts must equal. */
  readonly expected: string;
}

/** Run one peer once; its wall and CPU seconds. Throws when it fails or its counts differ. */
export async function runPeer(name: PeerName, probe: PeerProbe & { available: true }, j: PeerJob) {
  const script = (f: string) => path.join(j.root, 'scripts', 'bench', 'peers', f);
  const out = path.join(j.workDir, `peer-${name}.out`);
  rmSync(out, { recursive: true, force: true });
  // Loopback only: Spark's driver binds to 127.0.0.1 and its web UI is off.
  const env = { ...process.env, SPARK_LOCAL_IP: '127.0.0.1', PYSPARK_PYTHON: python() };
  const t =
    name === 'lithops_localhost'
      ? await timedWithCpu(probe.command, [script('lithops_wordcount.py'), j.corpus, String(j.mapTasks), String(j.workers), out], { env })
      : await timedWithCpu(
          probe.command,
          ['--master', `local[${j.workers}]`, '--conf', 'spark.ui.enabled=false', script('spark_wordcount.py'), j.corpus, out],
          { env },
        );
  const text =
    name === 'lithops_localhost'
      ? readFileSync(out, 'utf8')
      : readdirSync(out)
          .filter((f) => f.startsWith('part-'))
          .map((f) => readFileSync(path.join(out, f), 'utf8'))
          .join('');
  rmSync(out, { recursive: true, force: true });
  const d = diffCounts(j.expected, text);
  if (d) throw new Error(`${name} word count differs from the single-process anchor: ${d}`);
  return t;
}
