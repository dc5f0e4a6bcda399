/**
 * In-process JavaScript steps: a shipped ES module's `map`, `reduce` or `combine`
 * export (API in `worker/module-api.ts`, support in `module-support.ts`) runs on batches of lines, synchronously
 * while it returns non-promises (the hot path), awaiting only real thenables.
 */
import { isAscii } from 'node:buffer';
import { deferred } from '../../core/concurrency.js';
import { isAsciiBatch } from '../../core/records.js';
import { TaskFailedError } from '../../core/errors.js';
import type { LineIndex } from '../../core/merge-line-index.js';
import type { MapFn, ReduceFn, TaskContext } from '../module-api.js';
import { isThenable, loadModuleFunction, taskContext, userError } from './module-support.js';
import { ModuleOutput } from './module-output.js';
import { GroupValues } from './group-values.js';
import { blockText, HeldBytes, indexedLine, type LineSpan, nextLine, ValueStrings } from './byte-groups.js';
import { latin1ToText } from './text.js';
import { type PairSink, type RunningStep, roleNoun, type StepContext, type StepResult } from './types.js';

/** Start a module step for one attempt (see `startStep`). */
export async function startModuleStep(modulePath: string, ctx: StepContext): Promise<RunningStep> {
  const fn = await loadModuleFunction(ctx.workDir, modulePath, ctx.role);
  ctx.signal?.throwIfAborted();
  return new ModuleRun(fn, modulePath, ctx).step();
}

class ModuleRun {
  private readonly output = new ModuleOutput();
  private readonly tc: TaskContext;
  /** Where a mapper's pairs go instead of `out` (StepContext.pairs). */
  private readonly pairs: PairSink | undefined;
  private readonly what: string;
  private chain: Promise<void> = Promise.resolve();
  private ended = false;
  /** Whatever the step failed with (user code may throw a non-Error), rethrown as is. */
  private error: unknown;
  private settled = false;
  private hasGroup = false;
  private groupKey = '';
  /**
   * The open group's key and values all come from ASCII blocks: they are the same in latin1
   * and UTF-8, so `callGroup` skips the per-key and per-value checks (one `isAscii` per block instead).
   */
  private groupAscii = false;
  private readonly valueStrings = new ValueStrings();
  /** The open group's key as bytes (`groupBytes` compares lines with it). */
  private readonly groupKeyBytes = new HeldBytes();
  private readonly span: LineSpan = { start: 0, keyEnd: 0, end: 0 };
  /** The open group's values (reduce and combine); bounded in memory, see GroupValues. */
  private readonly groupValues: GroupValues;
  private awaitingSince = 0;
  /** Set when a flush filled the output channel. */
  private mustWait = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onAbort = () => this.fail(this.ctx.signal?.reason ?? new Error('aborted'));
  private readonly failed = deferred<never>();
  private readonly done = deferred<StepResult>();

  constructor(
    private readonly fn: MapFn | ReduceFn,
    modulePath: string,
    private readonly ctx: StepContext,
  ) {
    this.what = `${roleNoun(ctx.role)} module "${modulePath}"`;
    this.groupValues = new GroupValues(ctx.workDir);
    this.failed.promise.catch(() => {});
    this.done.promise.catch(() => {});
    const pairs = ctx.role === 'map' ? ctx.pairs : undefined;
    this.pairs = pairs;
    this.tc = taskContext(
      ctx,
      pairs
        ? (key, value) => pairs.emit(key, value)
        : (key, value) => {
            if (this.output.emit(key, value)) this.flush();
          },
    );
    const period = Math.max(20, Math.min(1000, ctx.noProgressTimeoutMs / 5));
    this.timer = setInterval(() => this.checkProgress(), period);
    this.timer.unref();
    ctx.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  step(): RunningStep {
    const running: RunningStep = {
      write: (lines) => this.enqueue(lines),
      end: () => this.enqueue(undefined),
      output: this.output.lines,
      done: this.done.promise,
    };
    // A reducer or combiner groups lines by key: from bytes it decodes a key once per group
    // (./byte-groups.ts). A mapper's lines are whole strings anyway (its input is cut by the
    // split reader).
    if (this.ctx.role === 'map') return running;
    return { ...running, writeBytes: (bytes, index, lines) => this.enqueue(bytes, index, lines), recordOutput: () => this.output.asBytes() };
  }

  /** Serialize writes and end (a caller may not await each one). */
  private enqueue(lines: string[] | Buffer | undefined, index?: LineIndex, count = 0): Promise<void> {
    if (this.error !== undefined) return Promise.reject(this.error as unknown);
    if (this.ended)
      return lines === undefined ? this.chain : Promise.reject(new Error('RunningStep.write() called after end()'));
    if (lines === undefined) this.ended = true;
    const p = this.chain.then(() => this.process(lines, index, count));
    this.chain = p.catch(() => {});
    return p;
  }

  private async process(lines: string[] | Buffer | undefined, index: LineIndex | undefined, count: number): Promise<void> {
    if (this.error !== undefined) throw this.error as unknown;
    try {
      if (lines === undefined) {
        if (this.hasGroup) await this.callGroup();
        this.flush();
      } else {
        if (Buffer.isBuffer(lines)) await this.groupBytes(lines, index, count);
        else if (this.ctx.role === 'map') await this.mapBatch(lines);
        else await this.groupBatch(lines);
        if (this.error !== undefined) throw this.error as unknown; // aborted while a synchronous batch ran
        this.flush();
        if (this.mustWait) await this.waitForRoom();
      }
    } catch (err) {
      this.fail(err);
      throw this.error as unknown;
    }
    if (lines === undefined) {
      clearInterval(this.timer);
      this.output.close();
      void this.output.drained.then(() => this.settle());
    }
  }

  private async mapBatch(lines: string[]): Promise<void> {
    const fn = this.fn as MapFn;
    const tc = this.tc;
    // The split reader found every byte ASCII: each line is its text already (no regex per line).
    const ascii = isAsciiBatch(lines);
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      let r: unknown;
      try {
        r = fn(ascii ? raw : latin1ToText(raw), tc);
      } catch (err) {
        throw userError(this.what, err);
      }
      if (isThenable(r)) await this.awaitUser(r);
      if (this.mustWait) await this.waitForRoom();
      if (this.pairs?.full) await this.drainPairs();
    }
  }

  /** Group adjacent equal keys; a group stays open across batches until another key or end(). */
  private async groupBatch(lines: string[]): Promise<void> {
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const tab = line.indexOf('\t');
      const key = tab < 0 ? line : line.slice(0, tab);
      if (!this.hasGroup || key !== this.groupKey) {
        if (this.hasGroup) {
          // Awaited only when the reducer returned a promise: an `await` per group costs a
          // microtask turn per distinct key (~0.5 M per 16 MiB of a 1M-word corpus).
          const pending = this.callGroup();
          if (pending) await pending;
          if (this.mustWait) await this.waitForRoom();
        }
        this.hasGroup = true;
        this.groupAscii = false;
        this.groupKey = key;
        this.groupKeyBytes.setString(key);
      }
      this.groupValues.push(tab < 0 ? '' : line.slice(tab + 1));
    }
  }

  /**
   * `groupBatch` on whole '\n'-ended lines as bytes: the same groups and values, fewer strings.
   * With the merge's `index` (for `lines` lines) the lines' positions and group starts are read
   * from it; otherwise each line is scanned and its key compared with the open group's.
   */
  private async groupBytes(buf: Buffer, index: LineIndex | undefined, lines: number): Promise<void> {
    const text = blockText(buf);
    const ascii = isAscii(buf);
    // The open group may take values from this block.
    if (!ascii) this.groupAscii = false;
    const span = this.span;
    const keyBytes = this.groupKeyBytes;
    for (let i = 0, pos = 0; index !== undefined ? i < lines : nextLine(buf, pos, span); i++, pos = span.end + 1) {
      const fresh = index !== undefined ? indexedLine(index, i, pos, span) : !keyBytes.isAt(buf, span.start, span.keyEnd);
      const { start, keyEnd, end } = span;
      if (fresh || !this.hasGroup) {
        if (this.hasGroup) {
          const pending = this.callGroup();
          if (pending) await pending;
          if (this.mustWait) await this.waitForRoom();
        }
        this.hasGroup = true;
        this.groupAscii = ascii;
        this.groupKey = text.slice(start, keyEnd);
        keyBytes.set(buf, start, keyEnd);
      }
      this.groupValues.push(keyEnd < end ? this.valueStrings.of(text, buf, keyEnd + 1, end) : '');
    }
  }

  private callGroup(): Promise<void> | undefined {
    const ascii = this.groupAscii;
    const key = ascii ? this.groupKey : latin1ToText(this.groupKey);
    const values = this.groupValues.take(ascii);
    this.hasGroup = false;
    let r: unknown;
    try {
      r = (this.fn as ReduceFn)(key, values, this.tc);
    } catch (err) {
      this.groupValues.release();
      throw userError(this.what, err);
    }
    if (!isThenable(r)) {
      this.groupValues.release();
      return undefined;
    }
    return this.awaitUser(r).finally(() => this.groupValues.release());
  }

  private async awaitUser(r: PromiseLike<unknown>): Promise<void> {
    this.awaitingSince = Date.now();
    try {
      await Promise.race([
        Promise.resolve(r).catch((err: unknown) => {
          throw userError(this.what, err);
        }),
        this.failed.promise,
      ]);
    } finally {
      this.awaitingSince = 0;
    }
  }

  private checkProgress(): void {
    const since = this.awaitingSince;
    if (since !== 0 && Date.now() - since > this.ctx.noProgressTimeoutMs) {
      const secs = Math.round(this.ctx.noProgressTimeoutMs / 100) / 10;
      this.fail(
        new TaskFailedError(
          `${this.what} stopped after ${secs} s without progress (a returned promise did not settle)`,
          '',
        ),
      );
    }
  }

  private flush(): void {
    if (this.output.flush()) this.mustWait = true;
  }

  /** Hand the pair sink's records on (it may spill), unless the step fails meanwhile. */
  private async drainPairs(): Promise<void> {
    await Promise.race([this.pairs!.flush(), this.failed.promise]);
  }

  /** Output backpressure: wait until the consumer has taken some batches (or the step failed). */
  private async waitForRoom(): Promise<void> {
    await Promise.race([this.output.room(), this.failed.promise]);
    this.mustWait = false;
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.error = err;
    this.failed.reject(err);
    this.output.fail(err);
    this.finish();
    this.done.reject(err);
  }

  private settle(): void {
    if (this.settled) return;
    this.finish();
    this.done.resolve({ stderr: Buffer.alloc(0), stderrTail: '' });
  }

  private finish(): void {
    this.settled = true;
    this.groupValues.release();
    clearInterval(this.timer);
    this.ctx.signal?.removeEventListener('abort', this.onAbort);
  }
}
