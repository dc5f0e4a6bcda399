/**
 * Job progress output: a live multi-bar display on a TTY (cli-progress), a plain
 * line every few seconds otherwise, or one JSON event per update with --json.
 * Progress goes to stderr, so stdout keeps only results (and JSON with --json).
 */
import cliProgress from 'cli-progress';
import type { JobPhase, JobRecord, JobStatus, TaskKind, TaskRecord } from '../core/model.js';
import type { Io } from './io.js';

export interface PhaseProgress {
  readonly done: number;
  readonly running: number;
  readonly total: number;
  /** Seconds since the phase's first attempt started (absent before it starts). */
  readonly elapsedSeconds?: number;
}

/** An attempt running now: which task, on which worker, for how long. */
export interface RunningAttempt {
  readonly taskId: string;
  readonly attempt: number;
  readonly worker: string;
  readonly ageSeconds: number;
  /** A speculative backup of a slow attempt. */
  readonly backup?: boolean;
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
  /** The running attempts, oldest first. */
  readonly attempts?: readonly RunningAttempt[];
}

/** Progress figures from the job and its task records (pure; the caller reads them). */
export function progressFromTasks(job: JobRecord, tasks: readonly TaskRecord[], startedAt: number, now: number): ProgressSnapshot {
  const phase = (kind: TaskKind, total: number): PhaseProgress => {
    const mine = tasks.filter((x) => x.kind === kind);
    const starts = mine.flatMap((x) => [...(x.history ?? []).map((h) => h.startedAt), ...(x.claimedAt !== undefined ? [x.claimedAt] : [])]);
    const first = starts.length ? Math.min(...starts) : undefined;
    return {
      done: mine.filter((x) => x.status === 'COMMITTED').length,
      running: mine.filter((x) => x.status === 'RUNNING').length,
      total,
      ...(first !== undefined ? { elapsedSeconds: Math.max(0, Math.round((now - first) / 100) / 10) } : {}),
    };
  };
  const attempts: RunningAttempt[] = tasks
    .filter((x) => x.status === 'RUNNING' && x.owner && x.claimedAt !== undefined)
    .map((x) => ({ taskId: x.taskId, attempt: x.attempt, worker: x.owner!, ageSeconds: Math.max(0, Math.round((now - x.claimedAt!) / 100) / 10) }))
    .sort((a, b) => b.ageSeconds - a.ageSeconds);
  return {
    jobId: job.jobId,
    status: job.status,
    phase: job.phase,
    map: phase('map', job.numMaps),
    reduce: phase('reduce', job.numReduces),
    inputBytes: job.inputBytes,
    mapBytesDone: tasks
      .filter((x) => x.kind === 'map' && x.status === 'COMMITTED' && x.split)
      .reduce((n, x) => n + (x.split!.end - x.split!.start), 0),
    elapsedMs: now - startedAt,
    attempts,
  };
}

/**
 * Seconds left in one phase, from its own pace so far (tasks done per second since its
 * first attempt started); 0 when done, undefined before anything of it is done.
 */
export function phaseEtaSeconds(p: PhaseProgress): number | undefined {
  if (p.done >= p.total) return 0;
  if (!p.elapsedSeconds || p.done === 0) return undefined;
  return Math.max(0, Math.round((p.elapsedSeconds * (p.total - p.done)) / p.done));
}

/** `m-00003#2 on w-1 for 4.2s` (with `backup` for a speculative attempt). */
export function formatAttempt(a: RunningAttempt): string {
  return `${a.taskId}#${a.attempt} on ${a.worker} for ${a.ageSeconds.toFixed(1)}s${a.backup ? ' (backup)' : ''}`;
}

export interface ProgressReporter {
  update(s: ProgressSnapshot): void;
  stop(): void;
  /**
   * Whether an update for a job in this status and phase would show anything now. The
   * snapshot costs a task query (CLI and emulator CPU that the workers could use), so the
   * caller skips it when the answer is no. Absent: every update shows.
   */
  wouldShow?(status: JobStatus, phase: JobPhase): boolean;
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
  const running = s.attempts ?? [];
  if (running.length > 0 && !isFinal(s)) {
    const shown = running.slice(0, 3).map(formatAttempt).join(', ');
    parts.push(`running ${shown}${running.length > 3 ? `, +${running.length - 3} more` : ''}`);
  }
  return parts.join(' | ');
}

/**
 * Plain lines for logs and pipes: one at most every `everyMs`, plus one whenever
 * the status or phase changes (so the final state is always printed).
 */
export function plainReporter(io: Io, everyMs = 3000, now: () => number = Date.now): ProgressReporter {
  let last = Number.NEGATIVE_INFINITY;
  let lastState = '';
  const shows = (status: JobStatus, phase: JobPhase) => `${status}/${phase}` !== lastState || now() - last >= everyMs;
  return {
    wouldShow: shows,
    update(s) {
      const state = `${s.status}/${s.phase}`;
      if (shows(s.status, s.phase)) {
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
          mapEtaSeconds: phaseEtaSeconds(s.map) ?? null,
          reduceEtaSeconds: s.reduce.total > 0 ? (phaseEtaSeconds(s.reduce) ?? null) : 0,
          attempts: s.attempts ?? [],
        })}\n`,
      );
    },
    stop() {},
  };
}

/** Running attempts listed under the live bars. */
export const RUNNING_LINES = 4;

/** The live display: one bar per phase with its own ETA, the running attempts under them, redrawn in place. */
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
  // Text lines under the bars: the running attempts, oldest first.
  const lines = Array.from({ length: RUNNING_LINES }, () => bars.create(1, 0, { text: '' }, { format: '   {text}' }));
  const phaseEta = (s: ProgressSnapshot, p: PhaseProgress) => {
    if (isFinal(s)) return s.status.toLowerCase();
    if (p.total > 0 && p.done >= p.total) return 'done';
    const eta = phaseEtaSeconds(p);
    if (eta !== undefined) return `ETA ${formatDuration(eta)}`;
    return p.done === 0 && p.running === 0 ? 'waiting' : 'ETA ?';
  };
  return {
    update(s) {
      map.setTotal(Math.max(1, s.map.total));
      map.update(s.map.done, {
        running: s.map.running,
        speed: `${throughputMBps(s).toFixed(2)} MB/s`,
        eta_s: phaseEta(s, s.map),
      });
      reduce.setTotal(Math.max(1, s.reduce.total));
      reduce.update(s.reduce.done, {
        running: s.reduce.running,
        speed: s.reduce.total === 0 ? 'map-only job' : `phase ${s.phase.toLowerCase()}`,
        eta_s: s.reduce.total === 0 ? '' : phaseEta(s, s.reduce),
      });
      const running = isFinal(s) ? [] : (s.attempts ?? []);
      lines.forEach((line, i) => {
        const a = running[i];
        const more = i === RUNNING_LINES - 1 && running.length > RUNNING_LINES ? ` (+${running.length - RUNNING_LINES} more)` : '';
        line.update(0, { text: a ? `${formatAttempt(a)}${more}` : '' });
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
