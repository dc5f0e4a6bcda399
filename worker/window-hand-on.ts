/**
 * The flush of worker/repeat-aggregator.ts: one window's held records, counted, go to the
 * next stage combined. A distinct line or pair seen n > 1 times runs the combiner once on
 * its n identical values; one seen once is passed on as it is. Emitted pairs go to a byte
 * stage when there is one (a pair counted once with the common value is copied from the
 * key table's arena, no line string is made); otherwise everything goes on as line batches.
 */
import type { CharTable } from '../core/char-table.js';
import { keyOf, valueAfterKey } from '../core/records.js';
import type { StringTable } from '../core/string-table.js';
import type { LineStage } from './line-stage.js';
import type { RepeatedRecordCombiner } from './repeated-record-combiner.js';
import { textToLatin1 } from './step/text.js';

/** Lines handed on per batch. */
export const BATCH_LINES = 8192;

/**
 * The values counted for one key: the first one inline (the common case), others in a map.
 * `text`: the key or a value is not plain ASCII, so they are UTF-16 text to be encoded
 * (once, at the flush) rather than latin1 already.
 */
export interface PairCount {
  readonly value: string;
  n: number;
  more?: Map<string, number>;
  text?: boolean;
}

/** What an aggregator held in one window (see RepeatAggregator's fields of the same names). */
export interface HeldWindow {
  /** Distinct lines, each counted in `tally`. */
  readonly lines: StringTable;
  readonly tally: readonly number[];
  /** Distinct emitted keys; a ref r >= 1 counts the common value, r <= 0 is `others[-r]`. */
  readonly pairs: CharTable;
  readonly others: readonly PairCount[];
  /** Records taken while counting was off, handed on first and as they are. */
  readonly pending: string[];
  /** The value counted in a positive ref (undefined until a plain pair was emitted). */
  readonly common: string | undefined;
}

/** Hands held windows on, combined, to the next stage. */
export class WindowHandOn {
  /** Record chars (bytes, without newlines) handed on by the current `window` call. */
  private chars = 0;

  /**
   * @param next takes batches of lines (the sort buffer)
   * @param stage takes the emitted pairs as bytes, when the next stage takes bytes
   */
  constructor(
    private readonly repeated: RepeatedRecordCombiner,
    private readonly next: (lines: string[]) => Promise<void> | void,
    private readonly stage: LineStage | undefined,
  ) {}

  /** Hand every record of `held` on; resolves to the chars of the records handed on. */
  async window(held: HeldWindow): Promise<number> {
    this.chars = 0;
    const { lines, tally, pairs, others, pending } = held;
    let out = pending;
    const handOn = async () => {
      const p = this.next(out);
      out = [];
      if (p) await p;
    };
    for (let slot = 0; slot < lines.size; slot++) {
      const line = lines.keys[slot]!;
      const n = tally[slot]!;
      this.chars += n * line.length;
      const key = keyOf(line);
      if (n > 1 && key.length < line.length) {
        const r = this.repeated.combineRepeated(key, valueAfterKey(line, key.length), n);
        for (const l of r instanceof Promise ? await r : r) out.push(l);
      } else {
        // Once, or a line without a tab (no value to combine): passed on as it is.
        for (let k = n; k > 0; k--) {
          out.push(line);
          if (out.length >= BATCH_LINES) await handOn();
        }
      }
      if (out.length >= BATCH_LINES) await handOn();
    }
    // With a byte stage the pairs go there, after the lines so far (records keep their order).
    const stage = pairs.size > 0 ? this.stage : undefined;
    if (stage !== undefined && out.length > 0) await handOn();
    const common = held.common!;
    for (let e = pairs.nextEntry(-1); e >= 0; e = pairs.nextEntry(e)) {
      const ref = pairs.ref(e);
      if (ref === 1 && stage !== undefined) {
        // Once with the common value: copied from the table's arena, no line string.
        this.chars += pairs.lengthOf(e) + 1 + common.length;
        const p = stage.writePair(pairs, e, common);
        if (p) await p;
        continue;
      }
      if (ref > 1 && stage !== undefined) {
        // Copies of the common value (most repeated keys): the combiner's lines go to the
        // stage as they come, without an array per key to gather them in (~0.3 M per window).
        const r = this.combineCommon(pairs.keyOf(e), common, ref);
        const q = stage.writeLines(r instanceof Promise ? await r : r);
        if (q) await q;
        continue;
      }
      // Synchronous unless the combiner is async: no await per distinct key.
      const p = this.pairLines(pairs, e, ref, common, others, out);
      if (p) await p;
      if (stage !== undefined) {
        const q = stage.writeLines(out);
        out = [];
        if (q) await q;
      } else if (out.length >= BATCH_LINES) await handOn();
    }
    // Its keys were copied out: the next window (or attempt) takes its storage.
    pairs.release();
    if (stage !== undefined) await stage.take();
    if (out.length > 0) await this.next(out);
    return this.chars;
  }

  /** Append the combined lines of table entry `e` (with its `ref`) to `out`; a promise only while an async combiner runs. */
  private pairLines(
    pairs: CharTable,
    e: number,
    ref: number,
    common: string,
    others: readonly PairCount[],
    out: string[],
  ): Promise<void> | undefined {
    // A key counted with the common value was plain ASCII (the aggregator's `countPair`), and so is that value.
    if (ref > 0) return this.takePair(pairs.keyOf(e), common, ref, out, true);
    const counted = others[-ref]!;
    return this.countedLines(counted, counted.text ? textToLatin1(pairs.keyOf(e)) : pairs.keyOf(e), out);
  }

  /** The combined lines of `n` > 1 copies of a key counted with the common value (both plain ASCII). */
  private combineCommon(key: string, common: string, n: number): string[] | Promise<string[]> {
    this.chars += n * (key.length + 1 + common.length);
    return this.repeated.combineRepeated(key, common, n, true);
  }

  /** Append the combined lines of a key's PairCount to `out`. */
  private async countedLines(counted: PairCount, key: string, out: string[]): Promise<void> {
    const latin1 = (v: string) => (counted.text ? textToLatin1(v) : v);
    // Without `text` the key and its values were all plain ASCII (the aggregator's `countPair`).
    const ascii = counted.text !== true;
    await this.takePair(key, latin1(counted.value), counted.n, out, ascii);
    if (counted.more) for (const [value, n] of counted.more) await this.takePair(key, latin1(value), n, out, ascii);
  }

  /**
   * Append the combined form of `n` copies of the pair to `out`; a promise only while an async
   * combiner runs. `ascii`: key and value are known ASCII (the combiner skips its checks).
   */
  private takePair(key: string, value: string, n: number, out: string[], ascii: boolean): Promise<void> | undefined {
    this.chars += n * (key.length + 1 + value.length);
    if (n === 1) {
      out.push(`${key}\t${value}`);
      return undefined;
    }
    const r = this.repeated.combineRepeated(key, value, n, ascii);
    if (r instanceof Promise) {
      return r.then((lines) => {
        for (const l of lines) out.push(l);
      });
    }
    for (const l of r) out.push(l);
    return undefined;
  }
}
