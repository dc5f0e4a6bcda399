/**
 * Where a module reducer's or combiner's emitted records go: line strings in batches
 * (`RunningStep.output`), or, when the consumer asks for them (`RunningStep.recordOutput`:
 * the reduce task's part writer), '\n'-ended latin1 lines written straight into byte blocks.
 * Per record the bytes way spares the record's string (`encodeRecord`'s concatenation), and
 * per batch the join and the encoding of the joined string (`encodeLines`).
 */
import { OutputChannel } from './output-channel.js';
import { encodeRecord } from './text.js';
import type { RecordBatch } from './types.js';

/** Output lines are handed on in batches of this many. */
const FLUSH_LINES = 8192;
/** Output bytes are handed on in blocks of about this many. */
const FLUSH_BYTES = 256 * 1024;

/** Emitted records as latin1 lines in a byte block, like `encodeRecord` and `encodeLines`. */
export class RecordBytes {
  private buf = Buffer.allocUnsafe(FLUSH_BYTES + 1024);
  private used = 0;
  private records = 0;

  /** Append `key\tvalue\n` (as `encodeRecord` encodes it; throws as it does); returns the block's bytes. */
  add(key: string, value: string): number {
    this.records++;
    if (typeof key === 'string' && typeof value === 'string') {
      const end = this.used + key.length + value.length + 2;
      if (end <= this.buf.length && this.ascii(key, this.used) && this.ascii(value, this.used + key.length + 1)) {
        this.buf[this.used + key.length] = 0x09;
        this.buf[end - 1] = 0x0a;
        return (this.used = end);
      }
    }
    // Not plain ASCII (or no room): the string way, which converts UTF-8 and refuses a newline.
    const line = `${encodeRecord(key, value)}\n`;
    if (this.used + line.length > this.buf.length) this.grow(line.length);
    this.used += this.buf.write(line, this.used, 'latin1');
    return this.used;
  }

  /** The block so far (undefined when empty); the next records go to a fresh buffer. */
  take(): RecordBatch | undefined {
    if (this.records === 0) return undefined;
    const batch = { bytes: this.buf.subarray(0, this.used), length: this.records };
    this.buf = Buffer.allocUnsafe(this.buf.length);
    this.used = 0;
    this.records = 0;
    return batch;
  }

  /** Write `s` at `at` when it is ASCII without '\n' (one char per byte); false otherwise. */
  private ascii(s: string, at: number): boolean {
    const buf = this.buf;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c > 0x7f || c === 0x0a) return false;
      buf[at + i] = c;
    }
    return true;
  }

  private grow(n: number): void {
    const next = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.used + n));
    this.buf.copy(next, 0, 0, this.used);
    this.buf = next;
  }
}

/** A module step's output: line batches, or byte blocks once the consumer asked for them. */
export class ModuleOutput {
  /** `RunningStep.output`. */
  readonly lines = new OutputChannel();
  private blocks: OutputChannel<RecordBatch> | undefined;
  private encoder: RecordBytes | undefined;
  private out: string[] = [];

  /** `RunningStep.recordOutput`: from now on the output goes to byte blocks (call before any output). */
  asBytes(): AsyncIterable<RecordBatch> {
    this.blocks ??= new OutputChannel<RecordBatch>();
    this.encoder ??= new RecordBytes();
    return this.blocks;
  }

  /** Take an emitted record; true when a batch is due (call `flush`). */
  emit(key: string, value: string): boolean {
    const e = this.encoder;
    if (e !== undefined) return e.add(key, value) >= FLUSH_BYTES;
    return this.out.push(encodeRecord(key, value)) >= FLUSH_LINES;
  }

  /** Hand on what was emitted; true when the consumer is behind (wait for `room`). */
  flush(): boolean {
    if (this.blocks !== undefined) {
      const batch = this.encoder!.take();
      if (batch !== undefined) this.blocks.push(batch);
      return this.blocks.full;
    }
    if (this.out.length > 0) {
      this.lines.push(this.out);
      this.out = [];
    }
    return this.lines.full;
  }

  room(): Promise<void> {
    return (this.blocks ?? this.lines).room();
  }

  /** Resolves once the output was closed and taken. */
  get drained(): Promise<void> {
    return (this.blocks ?? this.lines).drained;
  }

  close(): void {
    this.lines.close();
    this.blocks?.close();
  }

  fail(err: unknown): void {
    this.lines.fail(err);
    this.blocks?.fail(err);
  }
}
