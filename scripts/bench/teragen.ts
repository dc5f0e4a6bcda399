/**
 * TeraGen and TeraValidate for line-oriented jobs (the printable variant, like
 * `gensort -a`): 100-byte records of a 10-byte key of printable ASCII (0x20-0x7e, 95
 * symbols, so spaces but never a tab or a newline), a tab, an 88-byte payload (the
 * record's row number in 32 hex digits, then filler) and a newline. A streaming job
 * sees `key<TAB>payload` lines, so an identity mapper and reducer sort the records by
 * their 10-byte key. Hadoop's TeraGen writes binary keys; a Hadoop-Streaming job reads
 * lines, hence the printable variant (gensort's `-a` mode exists for the same reason).
 *
 * The validator checks, as TeraValidate does, that the part files in part order are
 * globally sorted (each record's key ≥ the previous one's, also across part boundaries)
 * and that the multiset of records is unchanged: the sum (mod 2^64) of each record's
 * CRC-32 over the input equals the one over the output, with the same record count.
 */
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { mulberry32 } from '../../core/prng.js';

export const RECORD_BYTES = 100;
export const KEY_BYTES = 10;
const PAYLOAD_BYTES = RECORD_BYTES - KEY_BYTES - 2;
const FIRST = 0x20;
const SYMBOLS = 95;

/** Records [first, first + count) of the data set with this seed, as one buffer. */
export function teraRecords(seed: number, first: number, count: number): Buffer {
  // One generator per block of 2^16 rows, so any row range is reproducible without replaying the ones before.
  const out = Buffer.allocUnsafe(count * RECORD_BYTES);
  let rand: () => number = () => 0;
  for (let i = 0; i < count; i++) {
    const row = first + i;
    if (i === 0 || row % 65536 === 0) {
      rand = mulberry32((seed * 0x9e3779b1) ^ Math.floor(row / 65536));
      for (let skip = row % 65536; skip > 0; skip--) for (let k = 0; k < KEY_BYTES; k++) rand();
    }
    const o = i * RECORD_BYTES;
    for (let k = 0; k < KEY_BYTES; k++) out[o + k] = FIRST + Math.floor(rand() * SYMBOLS);
    out[o + KEY_BYTES] = 0x09;
    const id = row.toString(16).padStart(32, '0');
    out.write(id, o + KEY_BYTES + 1, 'latin1');
    // Filler as in gensort: a letter per 4 bytes, varying with the row.
    for (let p = 32; p < PAYLOAD_BYTES; p++) out[o + KEY_BYTES + 1 + p] = 0x41 + ((row + (p >> 2)) % 26);
    out[o + RECORD_BYTES - 1] = 0x0a;
  }
  return out;
}

/** Write `count` records of this seed to `file`, in blocks; returns the bytes written. */
export function writeTeraFile(file: string, seed: number, count: number): number {
  const fd = openSync(file, 'w');
  try {
    const block = 65536;
    for (let first = 0; first < count; first += block) writeSync(fd, teraRecords(seed, first, Math.min(block, count - first)));
  } finally {
    closeSync(fd);
  }
  return count * RECORD_BYTES;
}

/** The order-independent summary of a set of records. */
export interface TeraSummary {
  readonly records: number;
  /** Sum of the records' CRC-32s mod 2^64, as 16 hex digits. */
  readonly checksum: string;
}

export interface TeraValidation extends TeraSummary {
  /** undefined when sorted, else where the first out-of-order record is. */
  readonly unsorted?: string;
  /** A record that is not 100 bytes, or has no tab after its key. */
  readonly malformed?: string;
}

/**
 * Read line records from a sequence of chunks (files in part order): count them, sum their
 * CRC-32s, and check that their keys never go down. `where` names a record for messages.
 */
export class TeraValidator {
  private records = 0;
  private sum = 0n;
  private prevKey: Buffer | undefined;
  private carry: Buffer = Buffer.alloc(0);
  private unsorted: string | undefined;
  private malformed: string | undefined;

  /** Feed the next bytes of the output (or input) in order. */
  push(chunk: Buffer, where: string): void {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    let start = 0;
    let sum = 0;
    for (;;) {
      const nl = data.indexOf(0x0a, start);
      if (nl < 0) break;
      const rec = data.subarray(start, nl + 1);
      if (rec.length !== RECORD_BYTES || rec[KEY_BYTES] !== 0x09) this.malformed ??= `${where}: record ${this.records + 1} is ${JSON.stringify(rec.toString('latin1').slice(0, 40))}`;
      const key = rec.subarray(0, KEY_BYTES);
      if (this.prevKey && this.unsorted === undefined && Buffer.compare(this.prevKey, key) > 0) {
        this.unsorted = `${where}: record ${this.records + 1} key ${JSON.stringify(key.toString('latin1'))} < previous ${JSON.stringify(this.prevKey.toString('latin1'))}`;
      }
      this.prevKey = key;
      // Summed as a JS number per chunk (exact below 2^53), folded into the BigInt once per chunk.
      sum += crc32(rec);
      this.records++;
      start = nl + 1;
    }
    this.sum = (this.sum + BigInt(sum)) & 0xffffffffffffffffn;
    // The previous key must outlive the chunk it points into.
    if (this.prevKey) this.prevKey = Buffer.from(this.prevKey);
    this.carry = Buffer.from(data.subarray(start));
  }

  /** Read a file through push(). */
  pushFile(file: string): void {
    const fd = openSync(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, null);
        if (n === 0) break;
        this.push(buf.subarray(0, n), file);
      }
    } finally {
      closeSync(fd);
    }
  }

  result(): TeraValidation {
    const malformed = this.malformed ?? (this.carry.length ? `${this.carry.length} bytes after the last newline` : undefined);
    return {
      records: this.records,
      checksum: this.sum.toString(16).padStart(16, '0'),
      ...(this.unsorted ? { unsorted: this.unsorted } : {}),
      ...(malformed ? { malformed } : {}),
    };
  }
}

/** Validate files in order (TeraValidate); the input's summary comes from the same class, ignoring its order. */
export function validateFiles(files: readonly string[]): TeraValidation {
  const v = new TeraValidator();
  for (const f of files) v.pushFile(f);
  return v.result();
}

/** undefined when `output` is a sorted permutation of `input`, else why not. */
export function teraProblem(input: TeraSummary, output: TeraValidation): string | undefined {
  if (output.malformed) return `malformed output: ${output.malformed}`;
  if (output.unsorted) return `output not in order: ${output.unsorted}`;
  if (output.records !== input.records) return `output has ${output.records} records, input ${input.records}`;
  if (output.checksum !== input.checksum) return `output checksum ${output.checksum} differs from the input's ${input.checksum}`;
  return undefined;
}
