/**
 * A source of the byte merge (core/byte-merge.ts): a cursor over a key-sorted stream of
 * '\n'-ended lines, read chunk by chunk, with the key of its current line, the order of
 * cursors (key bytes unsigned, then source order) and the tournament tree that merges them.
 */
import { countedLineEnd } from './counted-lines.js';

const NL = 0x0a;
const TAB = 0x09;
const NEWLINE = Buffer.from('\n');
/** The int32 sign bit (see `keyPrefix`). */
const SIGN = 0x80000000 | 0;

/**
 * The first 4 bytes of the key `buf[pos..kend)` as a big-endian integer, a shorter key padded
 * with zero bytes, in the order of the unsigned bytes (as an int32: see below). Two keys whose
 * prefixes differ are in the order of their prefixes (a zero pad sorts where the shorter key does: first); equal prefixes say nothing
 * beyond their first `min(4, length)` bytes being equal. Where sources interleave line by line
 * (a large vocabulary, TeraSort's random keys) most comparisons end here, without a byte loop.
 */
export function keyPrefix(buf: Buffer, pos: number, kend: number): number {
  // Flipping the top bit maps the unsigned order onto int32's: the value stays a small
  // integer (an unsigned one above 2^31 would be a boxed double in every field holding it).
  if (kend - pos >= 4) return ((buf[pos]! << 24) | (buf[pos + 1]! << 16) | (buf[pos + 2]! << 8) | buf[pos + 3]!) ^ SIGN;
  let p = 0;
  for (let i = 0; i < 4; i++) p = (p << 8) | (pos + i < kend ? buf[pos + i]! : 0);
  return p ^ SIGN;
}

/** Bytes after a key's tab searched one by one for the line's '\n' before `indexOf` (memchr) takes over. */
const SHORT_VALUE = 16;

/** Where `scanLine` puts a line's '\n' and its key's end. */
export interface LineScan {
  nl: number;
  kend: number;
  /** The last value scanned was longer than SHORT_VALUE: search the next one with `indexOf` at once. */
  longValue: boolean;
}

/**
 * Find the line at `buf[pos..]`: its '\n' (`at.nl`) and its key's end (`at.kend`: the first
 * tab, or the line's end, before the trailer of a `counted` record, core/counted-lines.ts).
 * A '\n' must follow `pos` in `buf`. One pass over the key finds the tab or the '\n'; a short
 * value (a count) is searched here too: where sources interleave line by line (a large
 * vocabulary) `Buffer#indexOf`'s call per line cost more than the bytes it searched. Long
 * values (TeraSort's 90 bytes) are left to `indexOf`, and once one was seen the next line's
 * value goes to `indexOf` directly, so a source of long values pays no byte loop for them.
 */
export function scanLine(buf: Buffer, pos: number, counted: boolean, at: LineScan): void {
  let k = pos;
  let b = buf[k];
  while (b !== TAB && b !== NL) b = buf[++k];
  if (b === NL) {
    // No tab: the whole line is the key (the trailer holds neither '\t' nor '\n').
    at.nl = k;
    at.kend = counted ? countedLineEnd(buf, k) : k;
    return;
  }
  at.kend = k;
  let nl = k + 1;
  if (at.longValue) {
    nl = buf.indexOf(NL, nl);
    at.longValue = nl - k > SHORT_VALUE;
  } else {
    const stop = nl + SHORT_VALUE;
    while (buf[nl] !== NL) {
      if (++nl === stop) {
        nl = buf.indexOf(NL, nl);
        at.longValue = true;
        break;
      }
    }
  }
  at.nl = nl;
}

/** A source's position: `buf[pos..nl]` is its current line (`nl` is its '\n'), key `buf[pos..kend)`. */
export class Cursor {
  buf: Buffer = NEWLINE;
  pos = 0;
  nl = 0;
  kend = 0;
  /** `keyPrefix` of the current line's key. */
  pre = 0;
  /** See `LineScan`. */
  longValue = false;
  /** First byte after the buffer's last whole line. */
  end = 0;
  /** The buffer's last line starts at `lastStart`; its key ends at `lastKend`. */
  lastStart = 0;
  lastKend = 0;
  /** `keyPrefix` of the buffer's last line's key. */
  lastPre = 0;
  /** Bytes of an unfinished line carried over to the next chunk. */
  private carry: Buffer[] = [];
  /** The whole lines of a chunk after the one that finished a carried line (a view, not yet loaded). */
  private rest: Buffer | undefined;
  private done = false;

  constructor(
    private readonly it: AsyncIterator<Buffer | Uint8Array>,
    /** Position of the source in the input list: breaks key ties, so the merge is deterministic. */
    readonly index: number,
    /** Records in the counted form (core/counted-lines.ts): a key ends before the count. */
    readonly counted = false,
  ) {}

  /** Point at the line starting at `pos` (< end). */
  private scan(): void {
    scanLine(this.buf, this.pos, this.counted, this);
    this.pre = keyPrefix(this.buf, this.pos, this.kend);
  }

  /** Step to the next line in the buffer; false when the buffer is used up (call `load`). */
  step(): boolean {
    this.pos = this.nl + 1;
    if (this.pos >= this.end) return false;
    this.scan();
    return true;
  }

  /** Read the next chunk(s) holding at least one whole line; false at the end of the source. */
  async load(): Promise<boolean> {
    if (this.rest) {
      const rest = this.rest;
      this.rest = undefined;
      this.point(rest, rest.length);
      return true;
    }
    for (;;) {
      if (this.done) return false;
      const r = await this.it.next();
      let chunk: Buffer;
      if (r.done) {
        this.done = true;
        if (this.carry.length === 0) return false;
        // A last line without '\n' is still a line (as readLineBatches has it).
        chunk = NEWLINE;
      } else {
        const v = r.value;
        chunk = Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      }
      const last = chunk.lastIndexOf(NL);
      // The carried bytes are copied: a source may reuse its chunk's buffer for the next read.
      if (last < 0) {
        if (chunk.length > 0) this.carry.push(Buffer.from(chunk));
        continue;
      }
      let buf = chunk;
      let end = last + 1;
      if (this.carry.length > 0) {
        // Only the line the carry ends is copied (carry + the chunk up to its first '\n');
        // the chunk's further whole lines follow as a view of it.
        const first = chunk.indexOf(NL) + 1;
        const head = this.carry.reduce((n, c) => n + c.length, 0);
        buf = Buffer.concat([...this.carry, chunk.subarray(0, first)], head + first);
        if (first < end) this.rest = chunk.subarray(first, end);
        end = buf.length;
        this.carry = [];
      }
      if (last + 1 < chunk.length) this.carry.push(Buffer.from(chunk.subarray(last + 1)));
      this.point(buf, end);
      return true;
    }
  }

  /** Make `buf[0..end)` (whole lines) the current buffer, at its first line. */
  private point(buf: Buffer, end: number): void {
    this.buf = buf;
    this.end = end;
    const lastStart = buf.lastIndexOf(NL, end - 2) + 1;
    let k = lastStart;
    const e = this.counted ? countedLineEnd(buf, end - 1) : end - 1;
    while (k < e && buf[k] !== TAB) k++;
    this.lastStart = lastStart;
    this.lastKend = k;
    this.lastPre = keyPrefix(buf, lastStart, k);
    this.pos = 0;
    this.scan();
  }

  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** Byte order of two cursors' keys, then source order: < 0 when `a` comes first. */
export function compareCursors(a: Cursor, b: Cursor): number {
  if (a.pre !== b.pre) return a.pre < b.pre ? -1 : 1;
  const ab = a.buf;
  const bb = b.buf;
  const ap = a.pos;
  const bp = b.pos;
  const la = a.kend - ap;
  const lb = b.kend - bp;
  const n = la < lb ? la : lb;
  // Equal prefixes: the first min(4, n) bytes are equal.
  for (let i = n < 4 ? n : 4; i < n; i++) {
    const d = ab[ap + i]! - bb[bp + i]!;
    if (d !== 0) return d;
  }
  return la - lb || a.index - b.index;
}

/**
 * A tournament (loser) tree over the merge's cursors: the winner is the cursor whose line
 * comes first; after it moves on (or ends), `replay` finds the next winner with one
 * comparison per level, log2(k) in all, where a binary heap's sift-down makes two per
 * level. Where sources interleave line by line (a large vocabulary, random keys) that is
 * the merge's main cost. Leaves are the cursors (`k + i` in the implicit tree), internal
 * node `j` holds the loser of the match played there; an ended cursor loses every match.
 */
export class LoserTree {
  /** The index (into `cursors`) of the current winner. */
  winner = 0;
  /** Cursors not ended. */
  live: number;
  private readonly losers: Int32Array;
  private readonly ended: Uint8Array;

  constructor(private readonly cursors: readonly Cursor[]) {
    const k = cursors.length;
    this.live = k;
    this.losers = new Int32Array(Math.max(1, k));
    this.ended = new Uint8Array(k);
    const winners = new Int32Array(2 * k);
    for (let i = 0; i < k; i++) winners[k + i] = i;
    for (let j = k - 1; j >= 1; j--) {
      const a = winners[2 * j]!;
      const b = winners[2 * j + 1]!;
      const aWins = this.beats(a, b);
      winners[j] = aWins ? a : b;
      this.losers[j] = aWins ? b : a;
    }
    this.winner = k > 1 ? winners[1]! : 0;
  }

  /** True when cursor `a`'s line comes before cursor `b`'s (an ended cursor comes last). */
  private beats(a: number, b: number): boolean {
    if (this.ended[b] === 1) return true;
    if (this.ended[a] === 1) return false;
    return compareCursors(this.cursors[a]!, this.cursors[b]!) < 0;
  }

  /** Mark the winner ended (its source is used up). Call `replay` next. */
  endWinner(): void {
    this.ended[this.winner] = 1;
    this.live--;
  }

  /** The winner's line changed (it stepped, loaded or ended): play its matches up to the root again. */
  replay(): void {
    const losers = this.losers;
    let w = this.winner;
    for (let j = (w + this.cursors.length) >> 1; j >= 1; j >>= 1) {
      const l = losers[j]!;
      if (this.beats(l, w)) {
        losers[j] = w;
        w = l;
      }
    }
    this.winner = w;
  }

  /** The cursor that would win if the winner were gone (the best of the losers on its path); undefined when none is live. */
  runnerUp(): Cursor | undefined {
    const losers = this.losers;
    let r = -1;
    for (let j = (this.winner + this.cursors.length) >> 1; j >= 1; j >>= 1) {
      const l = losers[j]!;
      if (r < 0 || this.beats(l, r)) r = l;
    }
    return r < 0 || this.ended[r] === 1 ? undefined : this.cursors[r];
  }
}

/** True when the last line of `c`'s buffer sorts before `next`'s current line, i.e. every line left in the buffer does. */
export function lastLineBefore(c: Cursor, next: Cursor): boolean {
  if (c.pos === c.lastStart) return false; // the current line is the buffer's last: the normal step does it
  if (c.lastPre !== next.pre) return c.lastPre < next.pre;
  const buf = c.buf;
  const start = c.lastStart;
  const la = c.lastKend - start;
  const lb = next.kend - next.pos;
  const n = la < lb ? la : lb;
  const nb = next.buf;
  const np = next.pos;
  for (let i = n < 4 ? n : 4; i < n; i++) {
    const d = buf[start + i]! - nb[np + i]!;
    if (d !== 0) return d < 0;
  }
  return (la - lb || c.index - next.index) < 0;
}
