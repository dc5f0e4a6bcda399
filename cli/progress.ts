/**
 * Job progress output: a live multi-bar display on a TTY (cli-progress), a plain
 * line every few seconds otherwise, or one JSON event per update with --json.
 * Progress goes to stderr, so stdout keeps only results (and JSON with --json).
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
  /** Input bytes of the committed map tasks. */
  readonly mapBytesDone: number;
  readonly elapsedMs: number;
}

export interface ProgressReporter {
  update(s: ProgressSnapshot): void;
  stop(): void;
}

const isFinal = (s: ProgressSnapshot) => s.status === 'SUCCEEDED' || s.status === 'FAILED' || s.status === 'CANCELLED';

/** MB/s of map input processed so far (1 MB = 10^6 bytes). */
export function throughputMBps(s: ProgressSnapshot): number {
  return s.elapsedMs > 0 ? s.mapBytesDone / 1e6 / (s.elapsedMs / 1000) : 0;
}

/**
 * How far the job is, 0..1: the map phase by input bytes (tasks when sizes are
 * unknown) weighs 70%, the reduce phase by tasks 30% (map-only jobs: map is all).
 */
export function fractionDone(s: ProgressSnapshot): number {
  const mapFrac =
    s.inputBytes > 0 ? Math.min(1, s.mapBytesDone / s.inputBytes) : s.map.total > 0 ? s.map.done / s.map.total : 0;
  if (s.reduce.total === 0) return mapFrac;
  return 0.7 * mapFrac + 0.3 * (s.reduce.done / s.reduce.total);
}

/** Seconds left, extrapolated from the fraction done so far; undefined until something is done. */
export function etaSeconds(s: ProgressSnapshot): number | undefined {
  if (isFinal(s)) return 0;
  const f = fractionDone(s);
  if (f <= 0 || s.elapsedMs <= 0) return undefined;
  return Math.max(0, Math.round((s.elapsedMs * (1 - f)) / f / 1000));
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const phaseText = (name: string, p: PhaseProgress) => `${name} ${p.done}/${p.total} done, ${p.running} running`;

/**
 * One plain line, e.g.
 * `job 2026…-ab12cd RUNNING phase MAP | map 3/8 done, 2 running | reduce 0/2 done, 0 running | 12.5 MB/s | ETA 4s`.
 */
export function formatProgressLine(s: ProgressSnapshot): string {
  const eta = etaSeconds(s);
  const parts = [
    `job ${s.jobId} ${s.status} phase ${s.phase}`,
    phaseText('map', s.map),
    s.reduce.total > 0 ? phaseText('reduce', s.reduce) : 'reduce none (map-only)',
    `${throughputMBps(s).toFixed(2)} MB/s`,
    `elapsed ${formatDuration(Math.round(s.elapsedMs / 1000))}`,
  ];
  if (eta !== undefined && !isFinal(s)) parts.push(`ETA ${formatDuration(eta)}`);
  return parts.join(' | ');
}

/**
 * Plain lines for logs and pipes: one at most every `everyMs`, plus one whenever
 * the status or phase changes (so the final state is always printed).
 */
export function plainReporter(io: Io, everyMs = 3000, now: () => number = Date.now): ProgressReporter {
  let last = Number.NEGATIVE_INFINITY;
  let lastState = '';
  return {
    update(s) {
      const state = `${s.status}/${s.phase}`;
      if (state !== lastState || now() - last >= everyMs) {
        last = now();
        lastState = state;
        io.err(`${formatProgressLine(s)}\n`);
      }
    },
    stop() {},
  };
}

/** One `{"event":"progress",...}` line per update, on stdout. */
function jsonReporter(io: Io): ProgressReporter {
  return {
    update(s) {
      io.out(
        `${JSON.stringify({
          event: 'progress',
          ...s,
          mbPerSecond: Number(throughputMBps(s).toFixed(3)),
          etaSeconds: etaSeconds(s) ?? null,
        })}\n`,
      );
    },
    stop() {},
  };
}

/** The live display: one bar per phase, redrawn in place. */
export function ttyReporter(stream: NodeJS.WritableStream = process.stderr): ProgressReporter {
  const bars = new cliProgress.MultiBar(
    {
      format: ' {phase} [{bar}] {value}/{total} tasks | {running} running | {speed} | {eta_s}',
      hideCursor: true,
      barsize: 20, // the whole line fits an 80-column terminal
      clearOnComplete: false,
      stopOnComplete: false,
      stream,
      // Redraw even when the stream is not a TTY (tests); a real TTY is what selects this reporter.
      noTTYOutput: true,
      notTTYSchedule: 1000,
    },
    cliProgress.Presets.shades_classic,
  );
  const map = bars.create(1, 0, { phase: 'map   ', running: 0, speed: '', eta_s: '' });
  const reduce = bars.create(1, 0, { phase: 'reduce', running: 0, speed: '', eta_s: '' });
  return {
    update(s) {
      const eta = etaSeconds(s);
      const etaText = isFinal(s) ? s.status.toLowerCase() : eta === undefined ? 'ETA ?' : `ETA ${formatDuration(eta)}`;
      map.setTotal(Math.max(1, s.map.total));
      map.update(s.map.done, {
        running: s.map.running,
        speed: `${throughputMBps(s).toFixed(2)} MB/s`,
        eta_s: etaText,
      });
      reduce.setTotal(Math.max(1, s.reduce.total));
      reduce.update(s.reduce.done, {
        running: s.reduce.running,
        speed: s.reduce.total === 0 ? 'map-only job' : `phase ${s.phase.toLowerCase()}`,
        eta_s: etaText,
      });
    },
    stop() {
      bars.stop();
    },
  };
}

/** JSON events with --json; live bars when stderr is a terminal; plain lines otherwise. */
export function createProgressReporter(io: Io, json: boolean): ProgressReporter {
  if (json) return jsonReporter(io);
  return io.isTTY ? ttyReporter() : plainReporter(io);
}
