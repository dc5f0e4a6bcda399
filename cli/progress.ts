/**
 * Job progress output: a live multi-bar display on a TTY (cli-progress), a plain
 * line every few seconds otherwise, or one JSON event per update with --json.
 */
import cliProgress from 'cli-progress';
import type { JobPhase, JobStatus } from '../core/model.js';
import type { Io } from './io.js';

export interface PhaseProgress {
  readonly done: number;
  readonly running: number;
  readonly total: number;
}

export interface ProgressSnapshot {
  readonly jobId: string;
  readonly status: JobStatus;
  readonly phase: JobPhase;
  readonly map: PhaseProgress;
  readonly reduce: PhaseProgress;
  readonly inputBytes: number;
  readonly mapBytesDone: number;
  readonly elapsedMs: number;
}

export interface ProgressReporter {
  update(s: ProgressSnapshot): void;
  stop(): void;
}

/** MB/s over the map input so far. */
export function throughputMBps(s: ProgressSnapshot): number {
  return s.elapsedMs > 0 ? s.mapBytesDone / 1e6 / (s.elapsedMs / 1000) : 0;
}

/** Seconds left, from map throughput (map dominates) or task rate; undefined when unknown. */
export function etaSeconds(s: ProgressSnapshot): number | undefined {
  const doneTasks = s.map.done + s.reduce.done;
  const total = s.map.total + s.reduce.total;
  if (doneTasks === 0 || total === 0) return undefined;
  const perTask = s.elapsedMs / doneTasks;
  return Math.max(0, Math.round(((total - doneTasks) * perTask) / 1000));
}

/** One plain line: `map 3/8 (2 running) | reduce 0/2 (0 running) | 12.5 MB/s | ETA 4s`. */
export function formatProgressLine(s: ProgressSnapshot): string {
  const eta = etaSeconds(s);
  return (
    `[${s.jobId}] ${s.status.toLowerCase()} ` +
    `map ${s.map.done}/${s.map.total} (${s.map.running} running) | ` +
    `reduce ${s.reduce.done}/${s.reduce.total} (${s.reduce.running} running) | ` +
    `${throughputMBps(s).toFixed(1)} MB/s` +
    (eta === undefined ? '' : ` | ETA ${eta}s`)
  );
}

/** Plain lines, at most one per `everyMs` (plus the final one). */
export function plainReporter(io: Io, everyMs = 3000): ProgressReporter {
  let last = 0;
  return {
    update(s) {
      const final = s.status !== 'RUNNING' && s.status !== 'CREATING';
      if (final || Date.now() - last >= everyMs) {
        last = Date.now();
        io.err(`${formatProgressLine(s)}\n`);
      }
    },
    stop() {},
  };
}

export function jsonReporter(io: Io): ProgressReporter {
  return {
    update(s) {
      io.out(`${JSON.stringify({ event: 'progress', ...s, mbPerSecond: throughputMBps(s), etaSeconds: etaSeconds(s) })}\n`);
    },
    stop() {},
  };
}

function ttyReporter(): ProgressReporter {
  const bars = new cliProgress.MultiBar(
    {
      format: ' {phase} [{bar}] {value}/{total} tasks | {running} running | {speed} MB/s | ETA {eta_s}',
      hideCursor: true,
      clearOnComplete: false,
      stream: process.stderr,
    },
    cliProgress.Presets.shades_classic,
  );
  const map = bars.create(1, 0, { phase: 'map   ', running: 0, speed: '0.0', eta_s: '?' });
  const reduce = bars.create(1, 0, { phase: 'reduce', running: 0, speed: '', eta_s: '?' });
  return {
    update(s) {
      const eta = etaSeconds(s);
      const common = { speed: throughputMBps(s).toFixed(1), eta_s: eta === undefined ? '?' : `${eta}s` };
      map.setTotal(Math.max(1, s.map.total));
      map.update(s.map.done, { ...common, running: s.map.running });
      reduce.setTotal(Math.max(1, s.reduce.total));
      reduce.update(s.reduce.done, { ...common, running: s.reduce.running });
    },
    stop() {
      bars.stop();
    },
  };
}

export function createProgressReporter(io: Io, json: boolean): ProgressReporter {
  if (json) return jsonReporter(io);
  return io.isTTY ? ttyReporter() : plainReporter(io);
}
