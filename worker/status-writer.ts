/**
 * `reporter:status:` lines, coalesced: a task may print one per input record, but
 * the job record is written at most once per interval (a heartbeat), always with
 * the newest message, and `flush()` writes the last one before the attempt commits.
 *
 *   status a b c ............ d ...... (end)
 *   write  a -----interval---- c ---- d   (flush)
 */
export class CoalescedStatus {
  private latest: string | undefined;
  private lastWriteAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  /** Writes done (for tests and the call log). */
  writes = 0;

  constructor(
    private readonly write: (message: string) => Promise<void>,
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** A new status: written now if the interval has passed, else at its end (unless a newer one comes). */
  update(message: string): void {
    this.latest = message;
    if (this.timer === undefined && this.inFlight === undefined) this.schedule();
  }

  private schedule(): void {
    const wait = Math.max(0, this.lastWriteAt + this.intervalMs - this.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.send();
    }, wait);
    this.timer.unref();
  }

  private send(): void {
    const message = this.latest;
    if (message === undefined) return;
    this.latest = undefined;
    this.lastWriteAt = this.now();
    this.writes++;
    // A status is advisory: a failed write is dropped (the next status or flush retries with newer text).
    this.inFlight = this.write(message)
      .catch(() => {})
      .finally(() => {
        this.inFlight = undefined;
        if (this.latest !== undefined && this.timer === undefined) this.schedule();
      });
  }

  /** Write the newest status now, if one is pending, and wait for writes in flight. */
  async flush(): Promise<void> {
    if (this.timer !== undefined) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    await this.inFlight;
    if (this.latest !== undefined) {
      this.send();
      await this.inFlight;
    }
  }

  /** Drop any pending status (the attempt failed or was aborted). */
  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    this.latest = undefined;
  }
}
