/**
 * `npm run bench -- --terasort [--size 1G] [--profile DIR] [--worker-node-args=--trace-gc]`: the terasort section on its own
 * (see terasort.ts). Writes bench/results/terasort.json (or --out) and prints a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureEmulator } from '../../local/emulator.js';
import { runHotKey } from './hot-key.js';
import { runTeraSort, teraSortTable } from './terasort.js';

export async function runTeraSortSection(args: ReadonlyMap<string, string>, root: string, sizeBytes: number, seed: number): Promise<void> {
  const endpoint = args.get('endpoint') ?? (process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566');
  const emulator = await ensureEmulator({ endpoint });
  try {
    const profile = args.get('profile');
    const result = await runTeraSort({
      sizeBytes,
      seed,
      endpoint,
      startEmulator: false,
      workers: 2,
      workDir: path.resolve(args.get('work-dir') ?? path.join(os.tmpdir(), 'mapreduce-bench')),
      ...(profile ? { profileDir: path.resolve(profile) } : {}),
      ...(args.get('worker-node-args') ? { workerNodeArgs: args.get('worker-node-args')!.split(/\s+/).filter(Boolean) } : {}),
      timeline: args.has('timeline'),
      log: (msg) => console.error(`[bench] ${msg}`),
    });
    const out = path.resolve(args.get('out') ?? path.join(root, 'bench', 'results', 'terasort.json'));
    const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, node: process.version };
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ machine, ...result }, null, 2)}\n`);
    console.log(teraSortTable(result));
    console.error(`[bench] wrote ${out}`);
  } finally {
    await emulator.stop();
  }
}

/** `npm run bench -- --hot-key [--values N]`: the hot_key figure (scripts/bench/hot-key.ts), in bench/results/hot-key.json. */
export async function runHotKeySection(args: ReadonlyMap<string, string>, root: string): Promise<void> {
  const endpoint = args.get('endpoint') ?? (process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566');
  const values = Number(args.get('values') || 20_000_000);
  if (!Number.isInteger(values) || values < 1000) throw new Error(`--values: expected a whole number ≥ 1000, got "${args.get('values')}"`);
  const emulator = await ensureEmulator({ endpoint });
  try {
    const result = await runHotKey({
      values,
      endpoint,
      workDir: path.resolve(args.get('work-dir') ?? path.join(os.tmpdir(), 'mapreduce-bench')),
      log: (msg) => console.error(`[bench] ${msg}`),
    });
    const out = path.resolve(args.get('out') ?? path.join(root, 'bench', 'results', 'hot-key.json'));
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
    console.log(
      `hot_key: ${result.values} values of one key, reduce peak RSS ${result.reduce_peak_rss_mib} MiB (target ≤ 300), ` +
        `${result.seconds} s, load ${result.load_avg_1m_start} → ${result.load_avg_1m_end}`,
    );
    console.error(`[bench] wrote ${out}`);
  } finally {
    await emulator.stop();
  }
}
