/**
 * A byte stream cut into blocks of whole '\n'-ended lines, without decoding: the bytes
 * an executable mapper reads on stdin, as they came from the ranged GETs.
 */

/** What a line cutter offers the split reader (./splits.ts): strings (`LineSplitter`) or byte blocks. */
export interface LineCutter<T> {
  /** Feed the next chunk; returns what it completes (often nothing for a small chunk). */
  push(chunk: Buffer): T[];
  /** True while bytes of an unfinished line are held. */
  readonly hasPartial: boolean;
  /** End of input: the unfinished last line, if any. */
  end(): T[];
}

const LF = 0x0a;

/**
 * Cuts chunks into blocks of whole lines, each ending with '\n'. A chunk's lines are
 * handed on as a view of it; only the line that spans chunks is copied (with the rest of
 * the chunk, so each chunk gives at most one block). A final line without '\n' gets one.
 */
export class WholeLineCutter implements LineCutter<Buffer> {
  private pending: Buffer[] = [];

  get hasPartial(): boolean {
    return this.pending.length > 0;
  }

  push(chunk: Buffer): Buffer[] {
    if (chunk.length === 0) return [];
    const last = chunk.lastIndexOf(LF);
    if (last < 0) {
      this.pending.push(chunk);
      return [];
    }
    const whole = chunk.subarray(0, last + 1);
    const block = this.pending.length > 0 ? Buffer.concat([...this.pending, whole]) : whole;
    this.pending = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    return [block];
  }

  end(): Buffer[] {
    if (this.pending.length === 0) return [];
    const block = Buffer.concat([...this.pending, Buffer.from([LF])]);
    this.pending = [];
    return [block];
  }
}
