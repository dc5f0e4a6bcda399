/**
 * A running attempt's stderr so far, uploaded every LIVE_LOG_EVERY_BEATS heartbeats when
 * it grew (format and reader: core/live-log.ts), so `mapreduce logs --follow` can stream
 * it. Holds the last LIVE_LOG_BYTES only; an attempt shorter than one period makes no call.
 */
import { encodeLiveLog, LIVE_LOG_BYTES } from '../core/live-log.js';
import { dropFront } from './step/text.js';

export class LiveLog {
  private chunks: Buffer[] = [];
  private held = 0;
  private written = 0;
  private sent = 0;
  private inFlight: Promise<void> | undefined;
  private readonly timer: NodeJS.Timeout;

  /** `upload` writes the live object; a failed upload is retried at the next period. */
  constructor(
    private readonly upload: (body: Buffer) => Promise<void>,
    everyMs: number,
  ) {
    this.timer = setInterval(() => {
      this.inFlight ??= this.flush().finally(() => {
        this.inFlight = undefined;
      });
    }, everyMs);
    this.timer.unref();
  }

  /** Stderr bytes the step kept (no `reporter:` lines). */
  append(bytes: Buffer): void {
    this.chunks.push(bytes);
    this.held += bytes.length;
    this.written += bytes.length;
    this.held -= dropFront(this.chunks, this.held, LIVE_LOG_BYTES);
  }

  /** No more uploads; waits for one in flight. The final log is the task runner's. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.inFlight;
  }

  private async flush(): Promise<void> {
    const upTo = this.written;
    if (upTo === this.sent) return;
    await this.upload(encodeLiveLog(upTo - this.held, Buffer.concat(this.chunks)))
      .then(() => {
        this.sent = upTo;
      })
      .catch(() => {});
  }
}
