/**
 * One reduce group's values on their way from the merge to a module's `reduce`.
 *
 * A sync `reduce(key, values, ctx)` cannot wait for the next input batch in the middle
 * of its loop, so a group is complete before `reduce` is called. To keep that bounded
 * for a hot key (20M values of one word), a group holds at most GROUP_MEMORY_CHARS of
 * values in memory: past that, its values go to a file in the attempt's directory,
 * written in 256 KiB pieces, and `reduce` gets an iterable that reads the file back
 * in pieces, once. `for...of` reads it synchronously (any reducer can); `for await...of`
 * reads it with async reads, so the worker's event loop, and with it the heartbeats that
 * keep the attempt's lease, runs between pieces. A sync loop over a staged group holds
 * the event loop for the whole group: a group that takes longer than a lease to iterate
 * (tens of millions of values) needs an async reducer with `for await` (docs/cli.md).
 * A group that fits is handed over as the array it already is: no copy, no cost.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { TaskFailedError } from '../../core/errors.js';
import { LineSplitter } from '../../core/records.js';
import { decodeValues, latin1ToText } from './text.js';

/** Chars of one group's values held in memory before the group is staged to disk. */
export const GROUP_MEMORY_CHARS = 8 * 1024 * 1024;
/** Estimated heap chars per held value besides its own (array slot, string header). */
const VALUE_OVERHEAD = 24;
/** Bytes per write and per read of a staged group. */
const IO_BYTES = 256 * 1024;

/** Collects one group at a time; see the module comment. */
export class GroupValues {
  private values: string[] = [];
  private chars = 0;
  private fd: number | undefined;
  private file: string | undefined;
  private count = 0;
  private seq = 0;

  constructor(
    private readonly dir: string,
    private readonly memoryChars = GROUP_MEMORY_CHARS,
  ) {}

  /** Number of groups that were staged to disk so far (a fact for tests and counters). */
  staged = 0;

  /** Add the next value (latin1, no '\n') of the current group. */
  push(value: string): void {
    this.count++;
    this.values.push(value);
    this.chars += value.length + VALUE_OVERHEAD;
    if (this.chars > (this.fd === undefined ? this.memoryChars : IO_BYTES)) this.write();
  }

  /**
   * The current group for user code (UTF-8 text), and a new group starts. Call
   * `release` once user code is done with the returned values. With `ascii` the caller
   * knows every value is ASCII (the same in latin1 and UTF-8): they are not checked again.
   */
  take(ascii = false): Iterable<string> {
    if (this.fd === undefined) {
      const values = ascii ? this.values : decodeValues(this.values);
      this.values = [];
      this.chars = 0;
      this.count = 0;
      return values;
    }
    this.write();
    closeSync(this.fd);
    this.fd = undefined;
    const file = this.file!;
    const count = this.count;
    this.count = 0;
    return streamedValues(file, count);
  }

  /** Delete the last staged group's file (safe to call when nothing was staged). */
  release(): void {
    if (this.fd !== undefined) {
      closeSync(this.fd);
      this.fd = undefined;
    }
    if (this.file !== undefined) rmSync(this.file, { force: true });
    this.file = undefined;
  }

  private write(): void {
    if (this.fd === undefined) {
      this.release();
      this.file = join(this.dir, `group-${process.pid}-${this.seq++}.values`);
      this.fd = openSync(this.file, 'w');
      this.staged++;
    }
    if (this.values.length === 0) return;
    const buf = Buffer.from(`${this.values.join('\n')}\n`, 'latin1');
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off);
    this.values = [];
    this.chars = 0;
  }
}

/** Array members a reducer written for `values: string[]` may use; they fail loudly on a streamed group. */
const ARRAY_MEMBERS = new Set(['length', 'reduce', 'join', 'map', 'filter', 'forEach', 'slice', 'at', 'some', 'every']);

/**
 * A staged group as a one-pass iterable reading its file. Array members throw a
 * TaskFailedError that says what to do, instead of a silent `undefined`.
 */
function streamedValues(file: string, count: number): Iterable<string> {
  let used = false;
  const claim = (): void => {
    if (used) throw new TaskFailedError('the values of a reduce group can be iterated only once', '');
    used = true;
  };
  const iterable = {
    [Symbol.iterator]: function* (): Iterator<string> {
      claim();
      const fd = openSync(file, 'r');
      try {
        const buf = Buffer.allocUnsafe(IO_BYTES);
        const splitter = new LineSplitter();
        let pos = 0;
        for (;;) {
          const n = readSync(fd, buf, 0, IO_BYTES, pos);
          if (n === 0) break;
          pos += n;
          for (const v of splitter.push(buf.subarray(0, n))) yield latin1ToText(v);
        }
        for (const v of splitter.end()) yield latin1ToText(v);
      } finally {
        closeSync(fd);
      }
    },
    // The same pass with async reads: each piece's read lets timers (heartbeats) run.
    [Symbol.asyncIterator]: async function* (): AsyncIterator<string> {
      claim();
      const handle = await open(file, 'r');
      try {
        const buf = Buffer.allocUnsafe(IO_BYTES);
        const splitter = new LineSplitter();
        let pos = 0;
        for (;;) {
          const { bytesRead } = await handle.read(buf, 0, IO_BYTES, pos);
          if (bytesRead === 0) break;
          pos += bytesRead;
          for (const v of splitter.push(buf.subarray(0, bytesRead))) yield latin1ToText(v);
        }
        for (const v of splitter.end()) yield latin1ToText(v);
      } finally {
        await handle.close();
      }
    },
  };
  return new Proxy(iterable, {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && (ARRAY_MEMBERS.has(prop) || /^\d+$/.test(prop))) {
        throw new TaskFailedError(
          `reduce(): this group has ${count} values, too many to hold as an array; iterate them ` +
            `(for (const v of values)) instead of using values.${prop} (see docs/cli.md, "Module steps")`,
          '',
        );
      }
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
}
