/**
 * `combineGroups` (core/merge.ts) on sorted blocks of whole '\n'-ended lines: a line whose
 * key has no neighbour of the same key passes on as bytes (a span of such lines is one
 * subarray of its block), and only groups of two or more lines are decoded and combined.
 *
 * Why: behind the map-side aggregator (worker/repeat-aggregator.ts) nearly every key of
 * a sorted run comes once (a word count over a 1M-word vocabulary: ~505 k distinct keys
 * per 32 MiB split, each once). Decoding every block into line strings for a pass that
 * changes none of them, and encoding them again for the map output, cost ~5 % of the
 * module job's map CPU plus 0.5 M strings for the collector (docs/performance.md).
 *
 * The combiner gets the calls `combineGroups` makes over the same blocks as batches:
 * a group's lines (decoded), combined piecewise at a block end once its run since the
 * last piecewise call has `combineAt` lines, and once more when the key changes.
 */
import { PiecewiseGroup } from './piecewise-group.js';
import { encodeLines } from './records.js';

/** Sorted whole lines as bytes (a block may be reused once the next one is asked for). */
export interface LineBlock {
  readonly bytes: Buffer;
  readonly lines: number;
}

const NL = 0x0a;
const TAB = 0x09;

/** Node's Buffer method behind `toString('latin1', start, end)`, without its argument checks. */
type Slicer = Buffer & { latin1Slice(start: number, end: number): string };

/** The end of the key of the line starting at `s` (its first tab, or its '\n' at `nl`). */
function keyEnd(b: Buffer, s: number, nl: number): number {
  let k = s;
  while (k < nl && b[k] !== TAB) k++;
  return k;
}

/** True when b[s1..k1) equals b[s2..k2). */
function sameBytes(b: Buffer, s1: number, k1: number, s2: number, k2: number): boolean {
  const n = k1 - s1;
  if (n !== k2 - s2) return false;
  for (let j = 0; j < n; j++) if (b[s1 + j] !== b[s2 + j]) return false;
  return true;
}

/** True when b[s..k) holds the latin1 chars of `key`. */
function isKey(b: Buffer, s: number, k: number, key: string): boolean {
  const n = key.length;
  if (n !== k - s) return false;
  for (let j = 0; j < n; j++) if (b[s + j] !== key.charCodeAt(j)) return false;
  return true;
}

/**
 * Apply a per-key combine function to a key-sorted stream of line blocks (string batches,
 * if any come, are encoded first): see the module comment. Yields byte spans (valid until
 * the next is asked for, like the blocks they come from) and arrays of combined lines.
 */
export async function* combineByteGroups(
  sorted: AsyncIterable<LineBlock | string[]>,
  combine: (key: string, lines: string[]) => string[] | Promise<string[]>,
  opts: { combineAt?: number } = {},
): AsyncIterable<LineBlock | string[]> {
  const maxRun = Math.max(2, opts.combineAt ?? 4096);
  /** The last line of the previous block (decoded: the block is gone), while its key may go on; '' / -1 when none. */
  let head = '';
  let headKey = -1;
  /** The open group once it has two lines (`run`: its lines since the last piecewise call). */
  const group = new PiecewiseGroup(combine, maxRun);
  const closeGroup = (): Promise<string[]> => {
    headKey = -1;
    head = '';
    return group.close();
  };
  for await (const batch of sorted) {
    const { bytes: b, lines: count } = Array.isArray(batch) ? { bytes: encodeLines(batch), lines: batch.length } : batch;
    if (count === 0 || b.length === 0) continue;
    const buf = b as Slicer;
    const end = b.length;
    let s = 0;
    // The carried line's (or group's) key going on into this block.
    if (headKey >= 0) {
      const hk = group.lines === undefined ? head.slice(0, headKey) : group.key;
      while (s < end) {
        const nl = b.indexOf(NL, s);
        if (!isKey(b, s, keyEnd(b, s, nl), hk)) break;
        const line = buf.latin1Slice(s, nl);
        if (group.lines === undefined) group.open(hk, head, line);
        else group.lines.push(line);
        group.run++;
        s = nl + 1;
      }
      if (s === end) {
        if (group.run >= maxRun) await group.runEnd();
        continue;
      }
      yield group.lines !== undefined ? await closeGroup() : [head];
      head = '';
      headKey = -1;
    }
    // Lines [spanStart, s) pass as bytes; `spanLines` of them.
    let spanStart = s;
    let spanLines = 0;
    let nl = b.indexOf(NL, s);
    let k = keyEnd(b, s, nl);
    for (;;) {
      const next = nl + 1;
      if (next >= end) break;
      const nl2 = b.indexOf(NL, next);
      const k2 = keyEnd(b, next, nl2);
      if (!sameBytes(b, s, k, next, k2)) {
        spanLines++;
        s = next;
        nl = nl2;
        k = k2;
        continue;
      }
      // A group starts at the line at s.
      if (spanLines > 0) yield { bytes: b.subarray(spanStart, s), lines: spanLines };
      group.open(buf.latin1Slice(s, k), buf.latin1Slice(s, nl), buf.latin1Slice(next, nl2));
      group.run = 2;
      let t = nl2 + 1;
      while (t < end) {
        const nl3 = b.indexOf(NL, t);
        if (!isKey(b, t, keyEnd(b, t, nl3), group.key)) break;
        group.lines!.push(buf.latin1Slice(t, nl3));
        group.run++;
        t = nl3 + 1;
      }
      if (t >= end) {
        // The group may go on in the next block.
        headKey = group.key.length;
        s = end;
        break;
      }
      yield await closeGroup();
      s = t;
      spanStart = t;
      spanLines = 0;
      nl = b.indexOf(NL, s);
      k = keyEnd(b, s, nl);
    }
    if (s < end) {
      // The block's last line: its key may go on in the next block.
      if (spanLines > 0) yield { bytes: b.subarray(spanStart, s), lines: spanLines };
      head = buf.latin1Slice(s, end - 1);
      headKey = k - s;
      group.run = 1;
    }
    if (headKey >= 0 && group.run >= maxRun) await group.runEnd();
  }
  if (group.lines !== undefined) yield await group.close();
  else if (headKey >= 0) yield [head];
}
