/**
 * `node dist/scripts/bench/terasort-profile.js --profiles DIR --calls LOG [--top N]`
 * (measurement only, issue 13): where the workers' CPU goes on the real TeraSort job.
 *
 * Reads the workers' V8 CPU profiles (`--terasort --profile DIR`, one `CPU.*.<pid>.*.cpuprofile`
 * per worker) and the workers' call log of the same run (`MR_CALL_LOG`, printed by
 * `--timeline`), and sums each worker's self time by function and by what the worker was
 * doing at the sample: inside a map attempt, inside a reduce attempt (claim → commit, from
 * the call log), or outside any task. V8 stamps samples with the monotonic clock and the
 * call log with the wall clock: the offset between the two is read once here, so the split
 * is right only while the wall clock was not stepped between the run and this analysis.
 * V8 samples wall time (idle samples included), so "busy" excludes `(idle)`.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readCallLog } from './calls.js';
import { taskSpans } from './terasort-timeline.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** A phase of a worker's life: what it ran when a sample was taken. */
export type Phase = 'map' | 'reduce' | 'none';

/** Self ms per function name (`name url:line`) and phase, and each phase's total and idle ms. */
export interface PhaseProfile {
  readonly byFunction: Map<string, Record<Phase, number>>;
  readonly total: Record<Phase, number>;
  readonly idle: Record<Phase, number>;
}

function frameName(n: ProfileNode): string {
  const f = n.callFrame;
  const file = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${file}`.trim();
}

/**
 * Splits one profile's self time by phase: `phaseAt(ms since the epoch)` says what the worker
 * ran then; `offsetMs` turns V8's monotonic µs into ms since the epoch.
 */
export function splitProfile(p: CpuProfile, offsetMs: number, phaseAt: (t: number) => Phase, into?: PhaseProfile): PhaseProfile {
  const out: PhaseProfile = into ?? {
    byFunction: new Map(),
    total: { map: 0, reduce: 0, none: 0 },
    idle: { map: 0, reduce: 0, none: 0 },
  };
  const names = new Map<number, string>();
  const idle = new Set<number>();
  for (const n of p.nodes) {
    names.set(n.id, frameName(n));
    if (n.callFrame.functionName === '(idle)') idle.add(n.id);
  }
  let t = p.startTime;
  for (let i = 0; i < p.samples.length; i++) {
    t += p.timeDeltas[i] ?? 0;
    // A sample stands for the time until the next one.
    const ms = (p.timeDeltas[i + 1] ?? 0) / 1000;
    const phase = phaseAt(t / 1000 + offsetMs);
    const name = names.get(p.samples[i]!) ?? '?';
    out.total[phase] += ms;
    if (idle.has(p.samples[i]!)) out.idle[phase] += ms;
    let row = out.byFunction.get(name);
    if (!row) out.byFunction.set(name, (row = { map: 0, reduce: 0, none: 0 }));
    row[phase] += ms;
  }
  return out;
}

function main(): void {
  const args = new Map<string, string>();
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) args.set(argv[i]!.replace(/^--/, ''), argv[i + 1] ?? '');
  const dir = args.get('profiles');
  const log = args.get('calls');
  if (!dir || !log) throw new Error('usage: terasort-profile.js --profiles DIR --calls LOG [--top N]');
  const top = Number(args.get('top') ?? 25);
  const calls = readCallLog(log);
  const jobId = calls.findLast((c) => c.jobId !== undefined && c.taskId !== undefined)?.jobId;
  if (!jobId) throw new Error(`no job in ${log}`);
  const spans = taskSpans(calls, jobId);
  const offsetMs = Date.now() - Number(process.hrtime.bigint()) / 1e6;
  let all: PhaseProfile | undefined;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const pid = Number(/\.(\d+)\.\d+\.\d+\.cpuprofile$/.exec(f)?.[1]);
    const mine = spans.filter((s) => s.pid === pid && s.commit !== undefined);
    const phaseAt = (t: number): Phase => {
      const s = mine.find((x) => t >= x.claim && t <= x.commit!);
      return s ? (s.task.startsWith('m-') ? 'map' : 'reduce') : 'none';
    };
    const p = JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as CpuProfile;
    const one = splitProfile(p, offsetMs, phaseAt);
    const busy = (ph: Phase) => (one.total[ph] - one.idle[ph]).toFixed(0);
    console.log(`${f}: tasks ${mine.length}; busy ms map ${busy('map')}, reduce ${busy('reduce')}, outside tasks ${busy('none')}`);
    all = splitProfile(p, offsetMs, phaseAt, all);
  }
  if (!all) throw new Error(`no .cpuprofile in ${dir}`);
  const a = all;
  for (const ph of ['map', 'reduce', 'none'] as const) {
    const busy = a.total[ph] - a.idle[ph];
    console.log(`\n## ${ph}: ${a.total[ph].toFixed(0)} ms sampled, ${busy.toFixed(0)} busy (idle ${a.idle[ph].toFixed(0)})`);
    console.log('| self ms | % of busy | function |');
    console.log('|---|---|---|');
    const rows = [...a.byFunction.entries()].filter(([n]) => !n.startsWith('(idle)')).sort((x, y) => y[1][ph] - x[1][ph]);
    for (const [name, r] of rows.slice(0, top)) {
      console.log(`| ${r[ph].toFixed(0)} | ${((100 * r[ph]) / Math.max(1e-9, busy)).toFixed(1)} | ${name} |`);
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
