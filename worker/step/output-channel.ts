/**
 * The queue behind `RunningStep.output`, shared by the executable and module runners.
 */

const HIGH_WATER_BATCHES = 8;

/**
 * The queue behind `RunningStep.output`: the producer pushes batches, one consumer
 * iterates. `full` tells the producer to pause; `room()` resolves when it may resume.
 */
export class OutputChannel<T extends { readonly length: number } = string[]> implements AsyncIterable<T> {
  private readonly queue: T[] = [];
  private head = 0;
  private closed = false;
  private error: unknown;
  private failed = false;
  private discarding = false;
  private wakeConsumer: (() => void) | undefined;
  private roomWaiters: (() => void)[] = [];
  private drainedResolve!: () => void;
  /** Resolves once the channel is closed and every batch was taken (or discarded). */
  readonly drained: Promise<void> = new Promise((resolve) => {
    this.drainedResolve = resolve;
  });

  /** True when the producer should wait for `room()` before pushing more. */
  get full(): boolean {
    return this.queue.length - this.head >= HIGH_WATER_BATCHES && !this.discarding && !this.failed;
  }

  push(batch: T): void {
    if (this.closed || this.discarding || batch.length === 0) return;
    this.queue.push(batch);
    this.wake();
  }

  /** Resolves when the consumer has made room (or stopped consuming, or the channel failed). */
  room(): Promise<void> {
    if (!this.full) return Promise.resolve();
    return new Promise((resolve) => this.roomWaiters.push(resolve));
  }

  /** No more batches: the consumer ends after the queued ones. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.wake();
    this.checkDrained();
  }

  /** The consumer's next() throws `err` (queued batches are dropped). */
  fail(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.error = err;
    this.closed = true;
    this.queue.length = 0;
    this.head = 0;
    this.wake();
    this.releaseRoom();
  }

  private wake(): void {
    const w = this.wakeConsumer;
    this.wakeConsumer = undefined;
    w?.();
  }

  private releaseRoom(): void {
    const waiters = this.roomWaiters;
    this.roomWaiters = [];
    for (const w of waiters) w();
  }

  private checkDrained(): void {
    if (this.closed && this.head >= this.queue.length) this.drainedResolve();
  }

  private take(): T | undefined {
    if (this.head >= this.queue.length) return undefined;
    const batch = this.queue[this.head]!;
    this.queue[this.head++] = undefined as unknown as T; // let the batch go
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (!this.full) this.releaseRoom();
    this.checkDrained();
    return batch;
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: async (): Promise<IteratorResult<T>> => {
        for (;;) {
          if (this.failed) throw this.error;
          const batch = this.take();
          if (batch !== undefined) return { value: batch, done: false };
          if (this.closed) return { value: undefined, done: true };
          await new Promise<void>((resolve) => {
            this.wakeConsumer = resolve;
          });
        }
      },
      return: async (): Promise<IteratorResult<T>> => {
        this.discarding = true;
        this.queue.length = 0;
        this.head = 0;
        this.releaseRoom();
        this.drainedResolve();
        return { value: undefined, done: true };
      },
    };
  }
}

