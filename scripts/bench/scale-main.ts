/**
 * `npm run bench -- --scale [M,M,...]`: the scale_curve section on its own (see
 * scale-curve.ts). Writes bench/results/scale.json (or --out) and prints a table.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureEmulator } from '../../local/emulator.js';
import { runScaleCurve, SCALE_DEFAULT_MS, scaleTable } from './scale-curve.js';

/** `16,256,2048` (or `default` / empty) → map-task counts. */
export function parseScaleList(v: string): number[] {
  if (v === '' || v === 'default') return [...SCALE_DEFAULT_MS];
  const ms = v.split(',').map((x) => Number(x.trim()));
  if (ms.some((m) => !Number.isInteger(m) || m < 1 || m > 100_000)) {
    throw new Error(`--scale: expected map-task counts like 16,256,2048, got "${v}"`);
  }
  return ms;
}

export async function runScaleSection(args: ReadonlyMap<string, string>, root: string): Promise<void> {
  const endpoint = args.get('endpoint') ?? (process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566');
  const emulator = await ensureEmulator({ endpoint });
  const load0 = os.loadavg();
  try {
    const points = await runScaleCurve({
      endpoint,
      workDir: path.resolve(args.get('work-dir') ?? path.join(os.tmpdir(), 'mapreduce-bench')),
      workers: 2,
      mapTasks: parseScaleList(args.get('scale') ?? ''),
      log: (msg) => console.error(`[bench] ${msg}`),
    });
    const out = path.resolve(args.get('out') ?? path.join(root, 'bench', 'results', 'scale.json'));
    const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, load_avg_1m_start: load0[0], load_avg_1m_end: os.loadavg()[0] };
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, `${JSON.stringify({ section: 'scale_curve', started: new Date().toISOString(), machine, points }, null, 2)}\n`);
    console.log(`${machine.cores} cores, load ${machine.load_avg_1m_start} → ${machine.load_avg_1m_end}\n\n${scaleTable(points)}`);
    console.error(`[bench] wrote ${out}`);
  } finally {
    await emulator.stop();
  }
}
