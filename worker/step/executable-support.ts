/**
 * Support for Hadoop-Streaming executables (`worker/step/executable.ts`): finding the
 * program to run, and capturing its stderr, where `reporter:counter:` and
 * `reporter:status:` lines become counter and status updates and every other byte is
 * kept for the task log, bounded (the head and the tail are kept when it overflows).
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { PoisonTaskError } from '../../core/errors.js';
import { parseReporterLine } from '../../core/reporter.js';
import { WholeLineCutter } from '../../core/whole-lines.js';
import { dropFront, tailLines } from './text.js';

/**
 * Find the program to spawn for the first word of a command line: a shipped file in
 * `workDir` (a word without '/', returned as `./name`), a path (relative to `workDir`,
 * returned as given), or a program on PATH (returned as its absolute path). Relative
 * results are meant for a process whose cwd is `workDir`. Throws PoisonTaskError when
 * the file is missing or not executable.
 */
export async function resolveProgram(
  name: string,
  workDir: string,
  pathVar: string | undefined,
  noun = 'program',
): Promise<string> {
  const notExecutable = (shown: string) =>
    new PoisonTaskError(
      `${noun} "${name}" is not executable: run chmod +x ${shown} (or name its interpreter first, e.g. "sh ${shown}")`,
      '',
    );
  if (name.includes('/')) {
    const file = isAbsolute(name) ? name : resolve(workDir, name);
    if (!(await isFile(file))) throw new PoisonTaskError(`${noun} "${name}" not found (no such file)`, '');
    if (!(await isExecutable(file))) throw notExecutable(name);
    return name;
  }
  const shipped = join(workDir, name);
  if (await isFile(shipped)) {
    if (!(await isExecutable(shipped))) throw notExecutable(name);
    return `./${name}`;
  }
  let found: string | undefined;
  for (const dir of (pathVar ?? '').split(delimiter)) {
    if (dir === '' || !isAbsolute(dir)) continue; // never search relative PATH entries
    const candidate = join(dir, name);
    if (await isFile(candidate)) {
      if (await isExecutable(candidate)) return candidate;
      found ??= candidate;
    }
  }
  if (found !== undefined) throw notExecutable(found);
  throw new PoisonTaskError(
    `${noun} "${name}" not found in the job's files or on PATH: ship it with "files" or install it on the worker`,
    '',
  );
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const REPORTER = Buffer.from('reporter:', 'latin1');
const STATUS = Buffer.from('reporter:status:', 'latin1');
/** A line longer than this is not held back to look for a `reporter:` prefix. */
const MAX_HELD_LINE = 64 * 1024;
const TAIL_SOURCE_BYTES = 8 * 1024;

/**
 * Line-by-line stderr parser and bounded store.
 * `reporter:counter:<group>,<counter>,<amount>` calls `onCounter` (amount: an integer);
 * `reporter:status:<message>` calls `onStatus`; both also call `onProgress` and are not
 * kept. A malformed `reporter:` line is kept like any other line.
 */
export class StderrCapture {
  private held: Buffer[] = [];
  private heldLen = 0;
  /** Part of the current line was already kept because it was too long to hold. */
  private midLine = false;
  private readonly head: Buffer[] = [];
  private headLen = 0;
  private tail: Buffer[] = [];
  private tailLen = 0;
  private omitted = 0;

  constructor(
    private readonly limitBytes: number,
    private readonly onCounter: (group: string, name: string, amount: number) => void,
    private readonly onStatus: (message: string) => void,
    private readonly onProgress: () => void = () => {},
    /** Each piece of stderr kept (as it is kept, before the size limit): the live log. */
    private readonly onKept: (bytes: Buffer) => void = () => {},
  ) {}

  /** Feed a chunk of stderr. */
  write(chunk: Buffer): void {
    let start = 0;
    // The chunk's last status line, decoded once after the loop: the last status wins, so a
    // status on every record costs a byte compare each, not a decode and a parse.
    let status: [number, number] | undefined;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      if (!this.midLine && this.heldLen === 0 && nl - start >= STATUS.length && chunk.compare(STATUS, 0, STATUS.length, start, start + STATUS.length) === 0) {
        status = [start + STATUS.length, chunk[nl - 1] === 13 && nl - 1 >= start + STATUS.length ? nl - 1 : nl];
        start = nl + 1;
        continue;
      }
      const piece = chunk.subarray(start, nl + 1);
      start = nl + 1;
      if (this.midLine) {
        this.keep(piece);
        this.midLine = false;
      } else if (this.heldLen > 0) {
        this.held.push(piece);
        const line = Buffer.concat(this.held);
        this.held = [];
        this.heldLen = 0;
        this.line(line);
      } else {
        this.line(piece);
      }
    }
    if (status) {
      this.onStatus(chunk.toString('utf8', status[0], status[1]));
      this.onProgress();
    }
    if (start >= chunk.length) return;
    const rest = chunk.subarray(start);
    if (this.midLine) {
      this.keep(rest);
      return;
    }
    this.held.push(rest);
    this.heldLen += rest.length;
    if (this.heldLen > MAX_HELD_LINE) {
      for (const b of this.held) this.keep(b);
      this.held = [];
      this.heldLen = 0;
      this.midLine = true;
    }
  }

  /** End of stderr: the kept bytes and the last ~20 lines of them as UTF-8. */
  finish(): { stderr: Buffer; stderrTail: string } {
    if (this.heldLen > 0) {
      this.line(Buffer.concat(this.held), false);
      this.held = [];
      this.heldLen = 0;
    }
    const parts = [...this.head];
    if (this.omitted > 0) parts.push(Buffer.from(`\n[... ${this.omitted} bytes of stderr omitted ...]\n`, 'latin1'));
    parts.push(...this.tail);
    const stderr = Buffer.concat(parts);
    const source = stderr.subarray(Math.max(0, stderr.length - TAIL_SOURCE_BYTES)).toString('utf8');
    return { stderr, stderrTail: tailLines(source) };
  }

  private line(line: Buffer, complete = true): void {
    if (line.length >= REPORTER.length && line.subarray(0, REPORTER.length).equals(REPORTER)) {
      let text = line.toString('utf8', 0, complete ? line.length - 1 : line.length);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (this.reporter(text)) {
        this.onProgress();
        return;
      }
    }
    this.keep(line);
  }

  /** Hadoop's grammar (core/reporter.ts): a counter line has exactly group, counter, amount. */
  private reporter(text: string): boolean {
    if (!text.startsWith('reporter:')) return false;
    const msg = parseReporterLine(text);
    if (msg === undefined) return false;
    if (msg.kind === 'status') this.onStatus(msg.message);
    else this.onCounter(msg.group, msg.name, msg.amount);
    return true;
  }

  private keep(bytes: Buffer): void {
    this.onKept(bytes);
    const half = Math.floor(this.limitBytes / 2);
    let b = bytes;
    if (this.headLen < half) {
      const take = Math.min(half - this.headLen, b.length);
      this.head.push(b.subarray(0, take));
      this.headLen += take;
      b = b.subarray(take);
      if (b.length === 0) return;
    }
    const room = this.limitBytes - half;
    this.tail.push(b);
    this.tailLen += b.length;
    const dropped = dropFront(this.tail, this.tailLen, room);
    this.tailLen -= dropped;
    this.omitted += dropped;
  }
}

/**
 * An executable's stdout as line batches (strings, the last partial line carried to the
 * next chunk), or, once `wholeLineBlocks()` is called, as Buffers of whole lines (no decode).
 */
export class StdoutSplitter {
  private cutter: WholeLineCutter | undefined;
  private carry = '';

  /** From now on, cut stdout into blocks of whole lines instead of line batches. */
  wholeLineBlocks(): void {
    this.cutter ??= new WholeLineCutter();
  }

  /** The batches or blocks completed by `chunk` (none while a line is still open). */
  push(chunk: Buffer): (string[] | Buffer)[] {
    if (this.cutter) return this.cutter.push(chunk);
    const lines = chunk.toString('latin1').split('\n');
    if (lines.length === 1) {
      this.carry += lines[0]!;
      return [];
    }
    // The carried partial line joins the first line only (not carry + chunk, a copy of the whole chunk).
    if (this.carry !== '') lines[0] = this.carry + lines[0]!;
    this.carry = lines.pop()!;
    return [lines];
  }

  /** What is left at the end of stdout: a last line without '\n' is a record. */
  end(): (string[] | Buffer)[] {
    const rest: (string[] | Buffer)[] = this.carry !== '' ? [[this.carry]] : [];
    this.carry = '';
    if (this.cutter) rest.push(...this.cutter.end());
    return rest;
  }
}
