import { describe, expect, it } from 'vitest';
import { encodeLines } from '../../core/records.js';
import { ModuleOutput, RecordBytes } from './module-output.js';
import { encodeRecord } from './text.js';
import type { RecordBatch } from './types.js';

/** Records as `encodeRecord` + `encodeLines` make them (the line-string way). */
const asLines = (records: [unknown, unknown][]) => encodeLines(records.map(([k, v]) => encodeRecord(k as string, v as string)));

describe('RecordBytes', () => {
  it('encodes emitted records into bytes exactly as the line strings are encoded, whatever their text', () => {
    const records: [unknown, unknown][] = [
      ['word', '12'],
      ['', ''],
      ['k', 'a\tb'],
      ['日本', 'ü'],
      ['\x7f', '\x00'],
      ['only key', undefined],
      [42, 7],
      ['x'.repeat(300_000), 'long'],
      ['after', 'long'],
    ];
    const enc = new RecordBytes();
    for (const [k, v] of records) enc.add(k as string, v as string);
    const batch = enc.take()!;
    expect(batch.length).toBe(records.length);
    expect(batch.bytes.equals(asLines(records))).toBe(true);
    expect(enc.take()).toBeUndefined();
  });

  it('refuses an emitted newline, as encodeRecord does', () => {
    const enc = new RecordBytes();
    expect(() => enc.add('a\nb', '1')).toThrow(TypeError);
    expect(() => enc.add('a', 'b\n')).toThrow(TypeError);
  });
});

describe('ModuleOutput', () => {
  it('hands the records over as byte blocks once asked, in order, in blocks of about 256 KiB', async () => {
    const out = new ModuleOutput();
    const blocks = out.asBytes();
    const records: [string, string][] = Array.from({ length: 100_000 }, (_, i) => [`key${i}`, String(i % 13)]);
    const got: RecordBatch[] = [];
    const drained = (async () => {
      for await (const b of blocks) got.push(b);
    })();
    for (const [k, v] of records) if (out.emit(k, v) && out.flush()) await out.room();
    out.flush();
    out.close();
    await drained;
    expect(got.length).toBeGreaterThan(1);
    expect(got.reduce((n, b) => n + b.length, 0)).toBe(records.length);
    expect(Buffer.concat(got.map((b) => b.bytes)).equals(asLines(records))).toBe(true);
  });
});
