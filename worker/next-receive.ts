/**
 * The worker's next receive, started as its task's commit is sent (worker/task-commit.ts
 * handOverAfterCommit): the long poll is then in flight while the commit, the message
 * delete and the job's next phase are written, instead of after them. Between two tasks of
 * a job the receive's round trip overlaps the commit's; at a phase change the committing
 * worker is already waiting when the reduce tasks are sent.
 *
 *   worker:  commit ──▶ ✓ ─── delete message ‖ read job ── advance phase ── (task done) ── claim next
 *            └─ receive (started here) ──────────────────────────────────▶ message ──┘
 *
 * A receive is never aborted (SQS may have handed out a message the client gave up on,
 * hidden then for the visibility timeout): at stop, one in flight is awaited and what it
 * brought is made visible again at once.
 */
import type { ReceivedMessage } from '../aws/queue.js';

export class NextReceive {
  private pending: Promise<ReceivedMessage | undefined> | undefined;

  constructor(private readonly receive: () => Promise<ReceivedMessage | undefined>) {}

  /** Start the next receive now, unless one is already in flight. */
  start(): void {
    if (this.pending) return;
    const p = this.receive();
    // Awaited by take() or release(); a failure before that must not be an unhandled rejection.
    p.catch(() => {});
    this.pending = p;
  }

  /** True while a receive started early has not been taken or released. */
  get started(): boolean {
    return this.pending !== undefined;
  }

  /** The next message: from the receive started early, else from a new one. */
  take(): Promise<ReceivedMessage | undefined> {
    const p = this.pending ?? this.receive();
    this.pending = undefined;
    return p;
  }

  /**
   * At stop: wait for a receive started early and give its message back (`giveBack`, e.g.
   * visibility 0). Returns true when a message was given back.
   */
  async release(giveBack: (msg: ReceivedMessage) => Promise<void>): Promise<boolean> {
    const p = this.pending;
    this.pending = undefined;
    const msg = p && (await p.catch(() => undefined));
    if (!msg) return false;
    await giveBack(msg).catch(() => {});
    return true;
  }
}
