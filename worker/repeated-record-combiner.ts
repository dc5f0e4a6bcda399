/**
 * Combining the n identical copies of one record that RepeatAggregator counted: in O(log n)
 * combiner calls on two values when the combiner gives one line per call, else in pieces.
 */
import { MapReduceError } from '../core/errors.js';
import type { GroupCombiner } from '../core/external-sort.js';
import { hasKey, valueAfterKey } from '../core/records.js';

/** Values handed to the combiner in one call at most (a hot record is combined in pieces). */
const COMBINE_MAX = 65536;
/**
 * Up to this many copies are combined in one call on all of them; more take the binary
 * way (see combineRepeated). Most repeated records of a large vocabulary come a few
 * times (Zipf: 2-16 copies), where one call beats 1 + log2(n) calls with their
 * decoding, context and output line each. Measured with the word count's module combiner
 * (µs per key, one call / the binary way): 65 copies 0.73 / 1.66, 128 copies 1.32 / 1.52,
 * 256 copies 3.18 / 2.07 (since equal values are decoded once, worker/step/text.ts).
 */
const ONE_CALL_MAX = 128;

/** Runs a group combiner on repeated records and counts its input and output records. */
export class RepeatedRecordCombiner {
  combineInputRecords = 0;
  combineOutputRecords = 0;

  constructor(private readonly combine: GroupCombiner) {}

  /**
   * The combined lines of `n` copies of the record `key\tvalue`. A combiner may be
   * applied to its own output (it is associative and may run several times per key), so
   * while each call yields one line, n copies take O(log n) calls on two values:
   * combine(v, v) stands for 2 copies, combining that with itself for 4, and so on
   * (binary decomposition of n). Up to ONE_CALL_MAX copies, or when a call does not give
   * one line, the copies are combined in pieces of COMBINE_MAX values instead.
   * Synchronous while the combiner is. `ascii`: key and value are known ASCII (GroupCombiner),
   * passed on for the one call on copies of `value` (the binary way's later calls take the
   * combiner's own output values, which are checked as usual).
   */
  combineRepeated(key: string, value: string, n: number, ascii = false): string[] | Promise<string[]> {
    if (n <= ONE_CALL_MAX) {
      // The common case, without the plan's generator (one object and two resumptions per key).
      const r = this.call(key, new Array<string>(n).fill(value), ascii);
      if (r instanceof Promise) return r.then((lines) => this.counted(n, lines));
      return this.counted(n, r);
    }
    const plan = this.repeatedPlan(key, value, n);
    let step = plan.next();
    while (!step.done) {
      const r = this.call(key, step.value);
      if (r instanceof Promise) {
        return (async () => {
          let st = plan.next(await r);
          while (!st.done) st = plan.next(await this.call(key, st.value));
          return st.value;
        })();
      }
      step = plan.next(r);
    }
    return step.value;
  }

  /** Yields the value lists to combine (receiving their output lines); returns the result lines. */
  private *repeatedPlan(key: string, value: string, n: number): Generator<string[], string[], string[]> {
    const single = (out: string[]) => (out.length === 1 ? valueAfterKey(out[0]!, key.length) : undefined);
    let acc: string | undefined;
    let pow: string | undefined = n <= ONE_CALL_MAX ? undefined : value;
    for (let k = n; pow !== undefined; ) {
      if (k % 2 === 1) {
        acc = acc === undefined ? pow : single(yield [acc, pow]);
        if (acc === undefined) break;
      }
      k = Math.floor(k / 2);
      if (k === 0) {
        this.combineInputRecords += n;
        this.combineOutputRecords += 1;
        return [`${key}\t${acc}`];
      }
      pow = single(yield [pow, pow]);
    }
    // Few copies, or the combiner did not give one line per call: the plain way, in pieces.
    const lines: string[] = [];
    for (let left = n; left > 0; left -= COMBINE_MAX) {
      const values = new Array<string>(Math.min(left, COMBINE_MAX)).fill(value);
      const combined = yield values;
      this.combineInputRecords += values.length;
      this.combineOutputRecords += combined.length;
      for (const l of combined) lines.push(l);
    }
    return lines;
  }

  private counted(n: number, lines: string[]): string[] {
    this.combineInputRecords += n;
    this.combineOutputRecords += lines.length;
    return lines;
  }

  /** Run the combiner on one key's values; its lines must keep the key. */
  private call(key: string, values: string[], ascii = false): string[] | Promise<string[]> {
    const r = this.combine(key, values, ascii);
    return r instanceof Promise ? r.then((out) => checkKeys(key, out)) : checkKeys(key, r);
  }
}

function checkKeys(key: string, out: string[]): string[] {
  for (const l of out) {
    if (!hasKey(l, key)) {
      throw new MapReduceError(`The combiner changed key "${key}" into a line with another key: "${l}"`, {
        context: { key },
      });
    }
  }
  return out;
}
