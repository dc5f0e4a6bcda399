/**
 * `node dist/scripts/bench/terasort-gc.js <stack dir>/worker-*.log` (measurement only, issue 13):
 * the workers' garbage collections by what they ran, from a `--terasort
 * --worker-node-args=--trace-gc` run (the bench prints the stack's directory). A worker's log
 * interleaves its JSON log lines with V8's `--trace-gc` lines in the order they happened, so
 * each collection belongs to the task between the last claim (`LOG_EVENTS.taskClaimed`) and
 * the attempt's end before it (committed, failed, lease lost, released): map, reduce, or none.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LOG_EVENTS } from '../../core/log-events.js';

export type GcPhase = 'map' | 'reduce' | 'none';

/** The worker's log events that end its attempt: committed, failed, lost its lease, or handed back. */
const ATTEMPT_ENDS: ReadonlySet<string> = new Set([
  LOG_EVENTS.taskCommitted,
  LOG_EVENTS.attemptFailed,
  LOG_EVENTS.attemptLostLease,
  LOG_EVENTS.attemptLostLeaseReleased,
  LOG_EVENTS.taskReleasedForShutdown,
]);

/** Collections of one kind in one phase: how many, their pauses and incremental marking steps (ms). */
export interface GcTally {
  n: number;
  pauseMs: number;
  incrementalMs: number;
}

/** `phase kind` (e.g. `map Mark-Compact`) → tally, for one worker's log. */
export function gcByPhase(log: string): Map<string, GcTally> {
  const out = new Map<string, GcTally>();
  let phase: GcPhase = 'none';
  for (const line of log.split('\n')) {
    if (line.startsWith('{')) {
      try {
        const e = JSON.parse(line) as { message?: string; taskId?: string };
        if (e.message === LOG_EVENTS.taskClaimed && e.taskId) phase = e.taskId.startsWith('m-') ? 'map' : 'reduce';
        else if (e.message !== undefined && ATTEMPT_ENDS.has(e.message)) phase = 'none';
      } catch {
        // a JSON line cut by a collection's line: not a task event
      }
      continue;
    }
    const m = /ms: (Scavenge|Mark-Compact|Minor Mark-Compact)[^,]*, ([\d.]+) \/ [\d.]+ ms(?:\s+\(\+ ([\d.]+) ms in)?/.exec(line);
    if (!m) continue;
    const key = `${phase} ${m[1]}`;
    let t = out.get(key);
    if (!t) out.set(key, (t = { n: 0, pauseMs: 0, incrementalMs: 0 }));
    t.n++;
    t.pauseMs += Number(m[2]);
    t.incrementalMs += Number(m[3] ?? 0);
  }
  return out;
}

function main(): void {
  const files = process.argv.slice(2);
  if (files.length === 0) throw new Error('usage: terasort-gc.js <stack dir>/worker-*.log');
  console.log('| worker log | phase and collection | count | pauses ms | incremental steps ms |');
  console.log('|---|---|---|---|---|');
  for (const f of files) {
    for (const [key, t] of [...gcByPhase(readFileSync(f, 'utf8'))].sort(([a], [b]) => a.localeCompare(b))) {
      console.log(`| ${path.basename(f)} | ${key} | ${t.n} | ${t.pauseMs.toFixed(0)} | ${t.incrementalMs.toFixed(0)} |`);
    }
  }
}

if (process.argv[1] && import.meta.url.endsWith(path.basename(process.argv[1]))) main();
