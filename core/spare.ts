/**
 * One kept object (the storage of a buffer or table that is done) for the next one made in
 * the process: a worker runs the map attempts of a job one after another, and each grows
 * the same large storage; allocated afresh it is fresh pages to fault in and zero, and
 * external memory that makes V8 start full collections. Kept for a few seconds only, so an
 * idle worker does not carry it.
 */

/** How long a kept object waits for its next user before it is let go. */
export const SPARE_KEEP_MS = 5000;

/** Holds at most one object; the bigger one (by `size`) wins when two are kept. */
export class Spare<T> {
  private kept: T | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly size: (t: T) => number) {}

  /** Keep `t` for the next user (unless a bigger one is kept), for SPARE_KEEP_MS. */
  keep(t: T): void {
    if (this.kept !== undefined && this.size(this.kept) > this.size(t)) return;
    this.kept = t;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.release(), SPARE_KEEP_MS);
    this.timer.unref();
  }

  /** The kept object when `fits` accepts it; it is handed over (none is kept after). */
  take(fits: (t: T) => boolean): T | undefined {
    const t = this.kept;
    if (t === undefined || !fits(t)) return undefined;
    this.release();
    return t;
  }

  /** Let the kept object go. */
  release(): void {
    this.kept = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
