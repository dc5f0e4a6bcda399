/**
 * Map-side aggregation of repeated records for jobs with a group combiner (a module's
 * `combine`): each distinct record is counted in a hash map, and the combiner runs
 * once per distinct record on its n (identical) values before the records go to the
 * sort buffer. A mapper that emits the same record many times (word count's `the\t1`,
 * a log aggregation's `status=500\t1`) then sorts and combines distinct records only.
 *
 * Records arrive two ways: as output lines of an executable mapper (`add`), or as the
 * `(key, value)` pairs a module mapper emits (`emit`, the PairSink of its step), which
 * are counted by key and value without building the line `key\tvalue` for every record.
 */
import type { GroupCombiner } from '../core/external-sort.js';
import { detach } from '../core/records.js';
import { CharTable } from '../core/char-table.js';
import { repeatsPayOff } from '../core/repeats.js';
import { StringTable } from '../core/string-table.js';
import { BATCH_FROM_KEYS, KeyBatch } from './key-batch.js';
import { LineStage } from './line-stage.js';
import { RepeatedRecordCombiner } from './repeated-record-combiner.js';
import type { PairSink } from './step/index.js';
import { encodeRecord, isPlain } from './step/text.js';
import { BATCH_LINES, type HeldWindow, type PairCount, WindowHandOn } from './window-hand-on.js';

/** Estimated heap bytes of one distinct record held, besides its chars. */
const ENTRY_BYTES = 64;

/**
 * Distinct keys of the last window that ended in this process, and their arena bytes: the
 * next window's table starts that big (a worker runs the map attempts of one job one after
 * another, and the windows of one attempt look alike), instead of doubling up from 4 k
 * buckets and a 64 KiB arena.
 */
const lastWindow = { keys: 0, bytes: 0 };

/**
 * Counts repeated records and hands them on combined; see the module comment. Memory
 * is bounded by `limitBytes` (everything is handed on when it is full), and counting
 * switches itself off for the rest of the attempt when records do not repeat enough to
 * pay for it (the shared policy of core/repeats.ts). Valid for any combiner, which may run on any
 * subset of a key's values.
 */
export class RepeatAggregator implements PairSink {
  /** Distinct lines, each with its count in `tally` (records that came as lines, or as unusual pairs). */
  private lines = new StringTable();
  private tally: number[] = [];
  /**
   * Emitted pairs: the distinct keys (chars in an arena, not strings), each with its ref.
   * A key whose only value so far is `common` has its count there (r >= 1): no object
   * per key (a word count over a large vocabulary holds hundreds of thousands of
   * `word\t1` keys, and objects would be allocated, traced and promoted by the collector
   * for each). A key with another value has r <= 0, its PairCount in `others[-r]`.
   */
  private pairs = new CharTable(lastWindow.keys, lastWindow.bytes);
  private others: PairCount[] = [];
  /** The value of the first plain pair emitted (a word count's '1'): see `pairs`. */
  private common: string | undefined;
  /** Pairs `emit` took but did not count yet (see `drain`). */
  private readonly batch = new KeyBatch();
  /** Records to hand on as they are (counting is off). */
  private pending: string[] = [];
  private distinct = 0;
  private bytes = 0;
  /** `records` at the last flush (records taken since = records - flushedAt). */
  private flushedAt = 0;
  private on = true;
  /** Records taken, and their chars (bytes) without the newlines. */
  records = 0;
  chars = 0;
  private readonly repeated: RepeatedRecordCombiner;
  /** How a flushed window's records are combined and handed on. */
  private readonly handOn: WindowHandOn;

  /**
   * @param next takes batches of lines (the sort buffer)
   * @param nextBytes takes blocks of whole '\n'-ended lines instead, for the emitted pairs;
   *   a block may be reused once its promise (if any) resolved
   */
  constructor(
    combine: GroupCombiner,
    private readonly limitBytes: number,
    private readonly next: (lines: string[]) => Promise<void> | void,
    nextBytes?: (block: Buffer) => Promise<void> | void,
  ) {
    this.repeated = new RepeatedRecordCombiner(combine);
    this.handOn = new WindowHandOn(this.repeated, next, nextBytes ? new LineStage(nextBytes) : undefined);
  }

  /** Lines that went into the combiner. */
  get combineInputRecords(): number {
    return this.repeated.combineInputRecords;
  }

  /** Lines that came out of the combiner. */
  get combineOutputRecords(): number {
    return this.repeated.combineOutputRecords;
  }

  /**
   * True when held records must be handed on (`flush`) before more are emitted. The batched
   * pairs are counted first only when they could make it full (each a new key at most): a
   * module step asks after every input record, and a batch that spans records is fuller.
   */
  get full(): boolean {
    const batch = this.batch;
    if (batch.n > 0 && !this.wouldBeFull(batch.n, batch.chars + batch.n * (this.common!.length + ENTRY_BYTES))) return false;
    this.drain();
    return this.wouldBeFull(0, 0);
  }

  /** `full` with `distinct` more distinct records held and `bytes` more bytes. */
  private wouldBeFull(distinct: number, bytes: number): boolean {
    return (
      this.bytes + bytes > this.limitBytes ||
      this.pending.length >= BATCH_LINES ||
      !repeatsPayOff(this.records - this.flushedAt, this.distinct + distinct)
    );
  }

  /**
   * Take one record emitted by a module mapper (validated and encoded like `encodeRecord`).
   * A string key without '\n' emitted with the common value (a word count's every word)
   * is only hashed here and counted with the others of its batch (`drain`): an emit that
   * can throw, or anything else, drains the batch first and is counted at once, so records
   * are counted in the order they came and errors are thrown by the emit that caused them.
   */
  emit(key: string, value: string): void {
    this.records++;
    if (this.on) {
      const pairs = this.pairs;
      if (pairs.size >= BATCH_FROM_KEYS && value === this.common && this.common !== undefined && typeof key === 'string') {
        const h = pairs.hash(key);
        if (!pairs.hashedNewline) {
          if (this.batch.push(key, h, pairs.hashedWide)) this.drain();
          return;
        }
      }
      if (this.batch.n > 0) this.drain();
      // (Only string keys are ever held; any other goes the first sighting's way, to be rejected.)
      const entry = typeof key === 'string' ? pairs.find(key) : -1;
      // The common cases here, not behind a call: a count of the common value, or of a key's first value.
      if (entry >= 0) {
        const ref = pairs.ref(entry);
        if (ref > 0) {
          if (value === this.common) {
            pairs.setRef(entry, ref + 1);
            return;
          }
        } else {
          const counted = this.others[-ref]!;
          if (counted.value === value) {
            counted.n++;
            return;
          }
        }
      }
      this.countPair(key, value, entry);
      return;
    }
    const line = encodeRecord(key, value);
    this.chars += line.length;
    this.pending.push(line);
  }

  /**
   * Count the batched pairs (keys with the common value): first the table's places for all
   * of them are read at once (`CharTable.touch`), then each is counted as `emit` would have.
   */
  private drain(): void {
    const batch = this.batch;
    const n = batch.n;
    if (n === 0) return;
    batch.clear();
    const pairs = this.pairs;
    const hashes = batch.hashes;
    const wide = batch.wide;
    const common = this.common!;
    pairs.touch(hashes, n);
    for (let k = 0; k < n; k++) {
      const key = batch.take(k);
      const entry = pairs.findHashed(key, hashes[k]!, wide[k] === 1);
      if (entry >= 0 && pairs.ref(entry) > 0) pairs.setRef(entry, pairs.ref(entry) + 1);
      else this.countPair(key, common, entry);
    }
  }

  /** Count one emitted pair whose key's table entry `find` gave (-1: a first sighting, or not a string). */
  private countPair(key: string, value: string, entry: number): void {
    const pairs = this.pairs;
    let counted: PairCount | undefined;
    if (entry < 0) {
      // a first sighting of the key
    } else if (pairs.ref(entry) > 0) {
      if (value === this.common) {
        pairs.setRef(entry, pairs.ref(entry) + 1);
        return;
      }
    } else {
      counted = this.others[-pairs.ref(entry)]!;
      if (counted.value === value) {
        counted.n++;
        return;
      }
      const n = counted.more?.get(value);
      if (n !== undefined) {
        counted.more!.set(value, n + 1);
        return;
      }
    }
    // A first sighting: plain ASCII strings are counted as pairs as they are, other text
    // too but encoded once at the flush (countText); anything else is encoded, which
    // also rejects a newline, and counted as a line.
    if (typeof key === 'string' && typeof value === 'string' && isPlain(key) && isPlain(value)) {
      this.common ??= detach(value);
      if (entry < 0) this.pairs.add(key, value === this.common ? 1 : this.addOther({ value: detach(value), n: 1 }));
      else (this.pairCount(entry).more ??= new Map()).set(detach(value), 1);
      this.distinct++;
      this.bytes += key.length + value.length + ENTRY_BYTES;
      return;
    }
    if (this.countText(key, value, entry)) return;
    this.countLine(encodeRecord(key, value));
  }

  /** Take a batch of map output lines; returns a promise only when it handed records on. */
  add(lines: string[]): Promise<void> | void {
    this.drain();
    this.records += lines.length;
    if (!this.on) {
      for (let i = 0; i < lines.length; i++) this.chars += lines[i]!.length;
      return this.next(lines);
    }
    for (let i = 0; i < lines.length; i++) this.countLine(lines[i]!);
    if (this.full) return this.flush();
  }

  /** Hold a PairCount; returns its `refs` entry. */
  private addOther(counted: PairCount): number {
    return 1 - this.others.push(counted);
  }

  /** The PairCount of a counted key (its table entry), made from its count of the common value if need be. */
  private pairCount(entry: number): PairCount {
    const ref = this.pairs.ref(entry);
    if (ref <= 0) return this.others[-ref]!;
    const made: PairCount = { value: this.common!, n: ref };
    this.pairs.setRef(entry, this.addOther(made));
    return made;
  }

  /** Count a first sighting of a text pair that is not plain ASCII; false when it is not a string pair without a newline. */
  private countText(key: string, value: string, entry: number): boolean {
    if (typeof key !== 'string' || typeof value !== 'string' || key.includes('\n') || value.includes('\n')) return false;
    if (entry < 0) this.pairs.add(key, this.addOther({ value: detach(value), n: 1, text: true }));
    else {
      const pc = this.pairCount(entry);
      (pc.more ??= new Map()).set(detach(value), 1);
      pc.text = true;
    }
    this.distinct++;
    // Two bytes per char: text beyond latin1 is a two-byte string in V8.
    this.bytes += 2 * (key.length + value.length) + ENTRY_BYTES;
    return true;
  }

  private countLine(line: string): void {
    // A new line is kept as a copy: it may be a view into a large input chunk it would keep alive.
    const slot = this.lines.add(line, detach);
    if (slot < this.tally.length) {
      this.tally[slot]!++;
      return;
    }
    this.tally.push(1);
    this.distinct++;
    this.bytes += line.length + ENTRY_BYTES;
  }

  /**
   * Hand every held record on (combined); call once more after the last record, with
   * `last` (no next window: its table starts small instead of at this window's size).
   */
  async flush(last = false): Promise<void> {
    this.drain();
    const held: HeldWindow = { lines: this.lines, tally: this.tally, pairs: this.pairs, others: this.others, pending: this.pending, common: this.common };
    // Records that rarely repeat: stop counting, pass them straight on from now on.
    if (!repeatsPayOff(this.records - this.flushedAt, this.distinct, this.bytes > this.limitBytes)) this.on = false;
    this.lines = new StringTable();
    this.tally = [];
    if (held.pairs.size > 0) Object.assign(lastWindow, { keys: held.pairs.size, bytes: held.pairs.recordBytes });
    this.pairs = last ? new CharTable() : new CharTable(lastWindow.keys, lastWindow.bytes);
    this.others = [];
    this.pending = [];
    this.distinct = 0;
    this.bytes = 0;
    this.flushedAt = this.records;
    this.chars += await this.handOn.window(held);
  }
}
