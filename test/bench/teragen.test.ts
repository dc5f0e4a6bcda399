/**
 * TeraGen and TeraValidate (scripts/bench/teragen.ts): records are 100 bytes with a
 * printable 10-byte key and a tab, any row range regenerates the same bytes, and the
 * validator accepts `LC_ALL=C sort` of the records, and refuses an out-of-order, a
 * dropped, a duplicated or a changed record. No emulator needed.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { KEY_BYTES, RECORD_BYTES, TeraValidator, teraProblem, teraRecords, validateFiles, writeTeraFile } from '../../scripts/bench/teragen.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'mr-teragen-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const validate = (b: Buffer) => {
  const v = new TeraValidator();
  v.push(b, 'buf');
  return v.result();
};

describe('teragen', () => {
  it('writes 100-byte records with a printable key, a tab and a newline; rows regenerate the same', () => {
    const all = teraRecords(5, 0, 70_000);
    expect(all.length).toBe(70_000 * RECORD_BYTES);
    for (let i = 0; i < 70_000; i += 997) {
      const rec = all.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
      for (let k = 0; k < KEY_BYTES; k++) expect(rec[k]! >= 0x20 && rec[k]! <= 0x7e).toBe(true);
      expect(rec[KEY_BYTES]).toBe(0x09);
      expect(rec.indexOf(0x0a)).toBe(RECORD_BYTES - 1);
      expect(rec.subarray(KEY_BYTES + 1, KEY_BYTES + 33).toString()).toBe(i.toString(16).padStart(32, '0'));
    }
    // A range starting mid-block (past the 65,536-row generator boundary too) is the same bytes.
    expect(teraRecords(5, 65_000, 2000).equals(all.subarray(65_000 * RECORD_BYTES, 67_000 * RECORD_BYTES))).toBe(true);
    expect(teraRecords(6, 0, 100).equals(all.subarray(0, 100 * RECORD_BYTES))).toBe(false);
    // Keys are spread: nearly all distinct.
    const keys = new Set<string>();
    for (let i = 0; i < 70_000; i++) keys.add(all.toString('latin1', i * RECORD_BYTES, i * RECORD_BYTES + KEY_BYTES));
    expect(keys.size).toBeGreaterThan(69_990);
  });

  it('validates LC_ALL=C sort of the records across part files, and refuses wrong outputs', () => {
    const input = path.join(dir, 'in.txt');
    writeTeraFile(input, 9, 20_000);
    const inSummary = validateFiles([input]);
    expect(inSummary.records).toBe(20_000);
    expect(inSummary.unsorted).toBeDefined(); // random input is not in order
    const sorted = execFileSync('sort', [input], { env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 26 });
    // Three parts, cut at record boundaries but not at a chunk size of the reader.
    const cuts = [0, 7001, 13_333, 20_000].map((r) => r * RECORD_BYTES);
    const parts = cuts.slice(1).map((end, i) => {
      const f = path.join(dir, `part-${i}`);
      writeFileSync(f, sorted.subarray(cuts[i]!, end));
      return f;
    });
    const out = validateFiles(parts);
    expect(teraProblem(inSummary, out)).toBeUndefined();
    expect(out.checksum).toBe(inSummary.checksum);

    // Parts in the wrong order: each is sorted, the whole is not.
    expect(teraProblem(inSummary, validateFiles([parts[1]!, parts[0]!, parts[2]!]))).toMatch(/not in order/);
    // One record dropped, one duplicated (count stays), one byte of a payload changed.
    const rec = (i: number) => sorted.subarray(i * RECORD_BYTES, (i + 1) * RECORD_BYTES);
    expect(teraProblem(inSummary, validate(sorted.subarray(RECORD_BYTES)))).toMatch(/19999 records/);
    const dup = Buffer.concat([rec(0), rec(0), sorted.subarray(2 * RECORD_BYTES)]);
    expect(teraProblem(inSummary, validate(dup))).toMatch(/checksum/);
    const changed = Buffer.from(sorted);
    changed[5 * RECORD_BYTES + 50] = changed[5 * RECORD_BYTES + 50] === 0x41 ? 0x42 : 0x41;
    expect(teraProblem(inSummary, validate(changed))).toMatch(/checksum/);
    // A truncated last record is malformed.
    expect(teraProblem(inSummary, validate(sorted.subarray(0, sorted.length - 1)))).toMatch(/malformed/);
  });
});
