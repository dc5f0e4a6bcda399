/**
 * `straggler_slowdown`: a job of 8 map tasks on 3 workers where the first attempt of one
 * map task is slowed 20× (its mapper sleeps 20 × MAP_SECONDS instead of MAP_SECONDS, the
 * marker mechanism of test/fault/speculation.test.ts), timed from the manifest upload to
 * `_SUCCESS`. The figure is that time over a clean run's, with speculation on (the job's
 * default; target ≤ 1.5) and off (`speculative: false`, reported). Every run's part files
 * are compared byte for byte with the clean run's before any time counts.
 *
 * The stack runs the fault tests' timings (400 ms heartbeats: 2 s leases, so a backup may
 * start after 6 s, core/speculation.ts), not the deployment's (2 s heartbeats, 30 s): the
 * ratio depends on the task length over that minimum, and 2-3 s map tasks keep the section
 * to a couple of minutes. With the deployment's timings the same ratio needs tasks ≥ ~15 s.
 */
import { randomBytes } from 'node:crypto';
import { SHORT_TIMINGS, type Timings } from '../../core/config.js';
import type { ManifestInput } from '../../core/manifest.js';
import { Counters, counterKey, FRAMEWORK } from '../../core/reporter.js';
import { INDEX_REDUCER, wordText } from '../index-reducer.js';
import { BenchStack, type JobRun } from './bench-stack.js';
import { DEFAULTS, median, round } from './results.js';

/** The slow attempt takes this many times a clean one. */
export const SLOW_FACTOR = 20;
export const STRAGGLER_MAPS = 8;
export const STRAGGLER_WORKERS = 3;
/** The slowed map task (its first attempt only). */
export const SLOW_TASK_INDEX = 0;
export const STRAGGLER_TIMINGS: Timings = { ...SHORT_TIMINGS, heartbeatMs: 400 };

/** `word<TAB>line` per word, after sleeping MAP_SECONDS, or SLOW_SECONDS on the slow task's first attempt. */
const MAPPER = `#!/bin/sh
export LC_ALL=C
if [ "$mapreduce_task_partition" = "\${SLOW_TASK:-none}" ] && [ "$MR_ATTEMPT" = "1" ]; then
  sleep "$SLOW_SECONDS"
else
  sleep "$MAP_SECONDS"
fi
awk '{ for (i = 1; i <= NF; i++) print $i "\\t" NR }'
`;

export interface StragglerOptions {
  readonly endpoint: string;
  readonly startEmulator: boolean;
  readonly workDir: string;
  /** A clean map task's sleep (s); the straggler sleeps SLOW_FACTOR times it. */
  readonly mapSeconds: number;
  readonly reps: number;
  readonly log: (message: string) => void;
  /** Keep the stack's logs (workers, checker, coordinator) in its state dir and say where. */
  readonly keepLogs?: boolean;
}

export interface StragglerResult {
  /** Job time with one 20× straggler over the clean job time, speculation on (the figure). */
  readonly slowdown_speculation_on: number;
  readonly slowdown_speculation_off: number;
  readonly seconds: { readonly clean: number[]; readonly speculation_on: number[]; readonly speculation_off: number[] };
  /** Backups launched and won per speculation-on run (SPECULATIVE_ATTEMPTS / SPECULATIVE_WINS). */
  readonly backups_launched: number[];
  readonly backups_won: number[];
  readonly outputs_identical: true;
  readonly map_tasks: number;
  readonly workers: number;
  readonly map_seconds: number;
  readonly slow_factor: number;
  readonly heartbeat_ms: number;
}

/** The part files of a run, in name order. */
async function partFiles(b: BenchStack, run: JobRun): Promise<Buffer[]> {
  const prefix = run.job.manifest!.output.replace(/^s3:\/\/[^/]+\//, '');
  const keys = (await b.s.blobs.list(b.bucket, prefix)).map((o) => o.key).filter((k) => /part-\d+$/.test(k)).sort();
  const parts: Buffer[] = [];
  for (const k of keys) {
    const chunks: Buffer[] = [];
    for await (const c of await b.s.blobs.getObject(b.bucket, k)) chunks.push(c as Buffer);
    parts.push(Buffer.concat(chunks));
  }
  return parts;
}

function expectSameParts(got: Buffer[], want: Buffer[], what: string): void {
  if (got.length !== want.length) throw new Error(`${what}: ${got.length} part files, the clean run has ${want.length}`);
  got.forEach((p, i) => {
    if (!p.equals(want[i]!)) throw new Error(`${what}: part ${i} differs from the clean run (${p.length} vs ${want[i]!.length} bytes)`);
  });
}

/** Runs the section on its own stack of 3 workers; throws when an output differs from the clean run's. */
export async function runStragglerSection(o: StragglerOptions): Promise<StragglerResult> {
  const b = await BenchStack.start(
    { endpoint: o.endpoint, startEmulator: o.startEmulator, workDir: o.workDir, workers: STRAGGLER_WORKERS },
    {},
    [],
    STRAGGLER_TIMINGS,
    o.keepLogs,
  );
  if (o.keepLogs) o.log(`straggler: logs in ${b.stateDir} (worker-N.log, stack.log)`);
  try {
    await b.s.blobs.putBytes(b.bucket, 'in/straggler/words.txt', wordText(48_000, 7));
    await b.s.blobs.putBytes(b.bucket, 'code/straggler_map.sh', MAPPER);
    await b.s.blobs.putBytes(b.bucket, 'code/index_reduce.sh', INDEX_REDUCER);
    const env = { MAP_SECONDS: String(o.mapSeconds) };
    const slow = { ...env, SLOW_TASK: String(SLOW_TASK_INDEX), SLOW_SECONDS: String(SLOW_FACTOR * o.mapSeconds) };
    const manifest = (name: string, extra: Partial<ManifestInput>): ManifestInput => ({
      input: b.uri('in/straggler/'),
      output: b.uri(`out/straggler-${name}-${randomBytes(3).toString('hex')}/`),
      mapper: 'straggler_map.sh',
      reducer: 'index_reduce.sh',
      files: [b.uri('code/straggler_map.sh'), b.uri('code/index_reduce.sh')],
      numMappers: STRAGGLER_MAPS,
      numReducers: 2,
      ...extra,
    });
    const seconds = { clean: [] as number[], speculation_on: [] as number[], speculation_off: [] as number[] };
    const launched: number[] = [];
    const won: number[] = [];
    let reference: Buffer[] | undefined;
    for (let rep = 0; rep < o.reps; rep++) {
      o.log(`straggler rep ${rep + 1}/${o.reps}: clean run (map tasks of ${o.mapSeconds} s)`);
      const clean = await b.run(manifest('clean', { env }), 50);
      const cleanParts = await partFiles(b, clean);
      if (reference) expectSameParts(cleanParts, reference, 'clean run');
      reference ??= cleanParts;
      o.log(`straggler rep ${rep + 1}/${o.reps}: one ${SLOW_FACTOR}× straggler, speculation on`);
      const on = await b.run(manifest('on', { env: slow }), 50);
      expectSameParts(await partFiles(b, on), reference, 'straggler run with speculation');
      o.log(`straggler rep ${rep + 1}/${o.reps}: one ${SLOW_FACTOR}× straggler, speculation off`);
      const off = await b.run(manifest('off', { env: slow, speculative: false }), 50);
      expectSameParts(await partFiles(b, off), reference, 'straggler run without speculation');
      seconds.clean.push(round(clean.seconds));
      seconds.speculation_on.push(round(on.seconds));
      seconds.speculation_off.push(round(off.seconds));
      launched.push(on.job.counters[counterKey(FRAMEWORK, Counters.SPECULATIVE_ATTEMPTS)] ?? 0);
      won.push(on.job.counters[counterKey(FRAMEWORK, Counters.SPECULATIVE_WINS)] ?? 0);
    }
    const cleanS = median(seconds.clean);
    return {
      slowdown_speculation_on: round(median(seconds.speculation_on) / cleanS, 2),
      slowdown_speculation_off: round(median(seconds.speculation_off) / cleanS, 2),
      seconds,
      backups_launched: launched,
      backups_won: won,
      outputs_identical: true,
      map_tasks: STRAGGLER_MAPS,
      workers: STRAGGLER_WORKERS,
      map_seconds: o.mapSeconds,
      slow_factor: SLOW_FACTOR,
      heartbeat_ms: STRAGGLER_TIMINGS.heartbeatMs,
    };
  } catch (err) {
    o.log(b.workerLogTail());
    throw err;
  } finally {
    await b.stop();
  }
}

/** The section as a markdown table row set (figure, on, off, the times it is measured against). */
export function stragglerTable(r: StragglerResult): string {
  const s = r.seconds;
  return [
    '| figure | value | target | met | measured against |',
    '|---|---|---|---|---|',
    `| straggler_slowdown | ${r.slowdown_speculation_on} × | <= 1.5 | ${r.slowdown_speculation_on <= 1.5 ? 'yes' : '**no**'} | ` +
      `on ${s.speculation_on.join(', ')} s / clean ${s.clean.join(', ')} s; backups launched ${r.backups_launched.join(', ')}, won ${r.backups_won.join(', ')} |`,
    `| straggler_slowdown, speculation off | ${r.slowdown_speculation_off} × | (reported) | | off ${s.speculation_off.join(', ')} s |`,
  ].join('\n');
}

/**
 * `npm run bench -- --straggler [--reps N] [--map-seconds S] [--keep-logs]`: this section alone. Writes
 * bench/results/straggler.json (or --out) and prints its table with the machine's load.
 */
export async function runStragglerOnly(args: ReadonlyMap<string, string>, root: string, reps: number): Promise<void> {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const os = await import('node:os');
  const path = await import('node:path');
  const mapSeconds = Number(args.get('map-seconds') ?? DEFAULTS.stragglerMapSeconds);
  if (!(mapSeconds > 0 && mapSeconds <= 60)) throw new Error(`--map-seconds: expected seconds in (0, 60], got "${args.get('map-seconds')}"`);
  const load0 = os.loadavg()[0]!;
  const result = await runStragglerSection({
    endpoint: args.get('endpoint') ?? (process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566'),
    startEmulator: true,
    workDir: path.resolve(args.get('work-dir') ?? path.join(os.tmpdir(), 'mapreduce-bench')),
    mapSeconds,
    reps,
    log: (msg) => console.error(`[bench] ${msg}`),
    keepLogs: args.has('keep-logs'),
  });
  const machine = { cpu: os.cpus()[0]?.model, cores: os.cpus().length, load_avg_1m_start: round(load0, 2), load_avg_1m_end: round(os.loadavg()[0]!, 2) };
  const out = path.resolve(args.get('out') ?? path.join(root, 'bench', 'results', 'straggler.json'));
  mkdirSync(path.dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify({ section: 'straggler_slowdown', generated_at: new Date().toISOString(), machine, ...result }, null, 2)}\n`);
  console.log(`${machine.cores} cores, load ${machine.load_avg_1m_start} → ${machine.load_avg_1m_end}\n\n${stragglerTable(result)}`);
  console.error(`[bench] wrote ${out}`);
}
