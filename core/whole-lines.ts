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
 * handed on as a view of it; only the line that spans chunks is copied, as a block of its
 * own (so a chunk gives at most two blocks). Copying it with the rest of its chunk instead
 * copied nearly every chunk whole, since chunks rarely end at a line end: a second copy
 * of the split, and as much garbage. A final line without '\n' gets one.
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
    const out: Buffer[] = [];
    let from = 0;
    if (this.pending.length > 0) {
      from = chunk.indexOf(LF) + 1;
      out.push(Buffer.concat([...this.pending, chunk.subarray(0, from)]));
    }
    if (from <= last) out.push(chunk.subarray(from, last + 1));
    this.pending = last + 1 < chunk.length ? [chunk.subarray(last + 1)] : [];
    return out;
  }

  end(): Buffer[] {
    if (this.pending.length === 0) return [];
    const block = Buffer.concat([...this.pending, Buffer.from([LF])]);
    this.pending = [];
    return [block];
  }
}
