/**
 * The reducers' memory and descriptors for `scale_curve`, sampled on their own clock.
 *
 * Why not in the harness's job poll: that loop reads the job record every ~100 ms and
 * sampled only when the record it had just read said REDUCE, so a reduce shorter than one
 * poll (M = 16's take ~50 ms: 4 slices of one line each) was caught only by chance, and its
 * peak swung 25–35 open files between runs (docs/performance.md, session 15). The sampler
 * reads /proc every `SAMPLE_EVERY_MS` whatever the phase, stamps each sample, and the
 * samples are cut to the reduce window afterwards from the job record's own times (the
 * reduce tasks' messages sent → the job finished), which cover every reduce claim.
 */
import { readdirSync, readlinkSync } from 'node:fs';
import { procMemory } from './processes.js';

/** How often the sampler reads each worker's /proc entries. */
export const SAMPLE_EVERY_MS = 10;

/** One worker process at one instant. */
export interface ResourceSample {
  readonly at: number;
  readonly pid: number;
  readonly rssMiB: number;
  readonly openFiles: number;
  readonly sockets: number;
}

/** A process's open descriptors, and how many of them are sockets (0, 0 when it is gone). */
export function openFiles(pid: number): { all: number; sockets: number } {
  try {
    const fds = readdirSync(`/proc/${pid}/fd`);
    const sockets = fds.filter((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`).startsWith('socket:');
      } catch {
        return false; // closed while listed
      }
    }).length;
    return { all: fds.length, sockets };
  } catch {
    return { all: 0, sockets: 0 };
  }
}

/** Samples every live worker (`pids()`) until `stop()`; `samples` grows meanwhile. */
export class ResourceSampler {
  readonly samples: ResourceSample[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(pids: () => readonly number[], everyMs = SAMPLE_EVERY_MS) {
    this.timer = setInterval(() => {
      const at = Date.now();
      for (const pid of pids()) {
        const rss = procMemory(pid)?.rss;
        if (rss === undefined) continue; // exited between the listing and the read
        const open = openFiles(pid);
        this.samples.push({ at, pid, rssMiB: rss, openFiles: open.all, sockets: open.sockets });
      }
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** What the samples inside one window say about the reducers. */
export interface WindowSummary {
  readonly peakRssMiB: number;
  /** Each process's first and highest RSS in the window, by pid. */
  readonly byPid: Map<number, { first: number; peak: number }>;
  readonly peakOpenFiles: number;
  readonly peakSockets: number;
  readonly samples: number;
}

/** The peaks of the samples taken in [from, to] (epoch ms). */
export function windowSummary(samples: readonly ResourceSample[], from: number, to: number): WindowSummary {
  const byPid = new Map<number, { first: number; peak: number }>();
  let peakRssMiB = 0;
  let peakOpenFiles = 0;
  let peakSockets = 0;
  let n = 0;
  for (const s of samples) {
    if (s.at < from || s.at > to) continue;
    n++;
    peakRssMiB = Math.max(peakRssMiB, s.rssMiB);
    peakOpenFiles = Math.max(peakOpenFiles, s.openFiles);
    peakSockets = Math.max(peakSockets, s.sockets);
    const w = byPid.get(s.pid);
    if (w) w.peak = Math.max(w.peak, s.rssMiB);
    else byPid.set(s.pid, { first: s.rssMiB, peak: s.rssMiB });
  }
  return { peakRssMiB, byPid, peakOpenFiles, peakSockets, samples: n };
}

/** The most RSS a worker had at its first sample in the window, and the most one grew after it (0 without samples). */
export function reduceRssSummary(byPid: WindowSummary['byPid']): { atStart: number; growth: number } {
  const ws = [...byPid.values()];
  return { atStart: Math.max(0, ...ws.map((w) => w.first)), growth: Math.max(0, ...ws.map((w) => w.peak - w.first)) };
}

