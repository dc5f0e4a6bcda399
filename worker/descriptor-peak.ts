/**
 * A reduce attempt's own peak of open descriptors, read from /proc/self/fd at the moments
 * it can peak, for the `scale_curve` bench (issue 13: a reducer's open files must not grow
 * with the number of maps).
 *
 * Why not only the bench's sampler (scripts/bench/reducer-samples.ts, /proc/<pid>/fd every
 * 10 ms from outside): a short peak falls between its samples, more often when the machine
 * is loaded, so its figure says as much about the load as about the reducer. The attempt
 * knows when it holds the most: right after a slice GET's response arrived (its socket, and
 * those of the GETs still in flight, are held; larger slices' files are being written),
 * right after a merge opened all its inputs (its files, the reducer's pipes) and at the final
 * merge's end (the reducer's pipes and the part file open).
 * Looking at each of those moments costs one listing of /proc/self/fd (a few dozen entries);
 * sockets are told apart only when a new peak is seen.
 */
import { readdirSync, readlinkSync } from 'node:fs';

const FD_DIR = '/proc/self/fd';

/** Where the attempt was when it held the most descriptors. */
export type PeakMoment = 'fetch' | 'merge';

/** The most descriptors one attempt was seen to hold, and how many of them were sockets then. */
export class DescriptorPeak {
  openFiles = 0;
  sockets = 0;
  at: PeakMoment | undefined;
  /** Moments looked at. */
  looks = 0;

  /** Count the process's descriptors now (nothing where there is no /proc). */
  look(at: PeakMoment): void {
    let fds: string[];
    try {
      fds = readdirSync(FD_DIR);
    } catch {
      return;
    }
    this.looks++;
    // The listing holds one descriptor of its own (the directory) while it reads: not the reducer's.
    const n = fds.length - 1;
    if (n <= this.openFiles) return;
    this.openFiles = n;
    this.at = at;
    this.sockets = fds.filter((fd) => {
      try {
        return readlinkSync(`${FD_DIR}/${fd}`).startsWith('socket:');
      } catch {
        return false; // the listing's own descriptor, or one closed since
      }
    }).length;
  }
}
