import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openPartWriter } from './part-writer.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-part-writer-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('openPartWriter', () => {
  const chunks = Array.from({ length: 40 }, (_, i) => Buffer.from(`line ${i}\t${'x\xe9'.repeat(i * 1000)}\n`, 'latin1'));

  it('writes the chunks and returns the CRC-32 of the file (what its upload sends to S3)', async () => {
    const file = join(dir, 'part');
    const w = openPartWriter(file, false);
    for (const c of chunks) await w.write(c);
    const { crc32: crc } = await w.close();
    const bytes = await readFile(file);
    expect(bytes.equals(Buffer.concat(chunks))).toBe(true);
    expect(crc).toBe(crc32(bytes));
  });

  for (const gzip of [false, true]) {
    it(`without a checksum (a store that does not check it): the same file, no CRC-32 (gzip ${gzip})`, async () => {
      const [a, b] = [join(dir, `with-${gzip}`), join(dir, `without-${gzip}`)];
      const [w, wo] = [openPartWriter(a, gzip), openPartWriter(b, gzip, false)];
      for (const c of chunks) {
        await w.write(c);
        await wo.writeReused(Buffer.from(c));
      }
      expect((await w.close()).crc32).toBe(crc32(await readFile(a)));
      expect((await wo.close()).crc32).toBeUndefined();
      const [x, y] = [await readFile(a), await readFile(b)];
      expect((gzip ? gunzipSync(y) : y).equals(Buffer.concat(chunks))).toBe(true);
      if (!gzip) expect(y.equals(x)).toBe(true);
    });
  }

  it('gzip: the CRC-32 is the compressed file\'s', async () => {
    const file = join(dir, 'part.gz');
    const w = openPartWriter(file, true);
    for (const c of chunks) await w.write(c);
    const { crc32: crc } = await w.close();
    const bytes = await readFile(file);
    expect(gunzipSync(bytes).equals(Buffer.concat(chunks))).toBe(true);
    expect(crc).toBe(crc32(bytes));
  });

  for (const gzip of [false, true]) {
    it(`a chunk may be reused once its writeReused resolved, small chunks included (gzip ${gzip})`, async () => {
      const file = join(dir, 'reused');
      const w = openPartWriter(file, gzip);
      const reused = Buffer.alloc(100);
      const want: Buffer[] = [];
      for (let i = 0; i < 500; i++) {
        // Chunks of 1..100 bytes, far below the streams' 16 KiB highWaterMark: queued, not written, when write() returns.
        const n = 1 + (i % 100);
        reused.fill(0x61 + (i % 26), 0, n);
        want.push(Buffer.from(reused.subarray(0, n)));
        await w.writeReused(reused.subarray(0, n));
      }
      await w.close();
      const bytes = await readFile(file);
      expect((gzip ? gunzipSync(bytes) : bytes).equals(Buffer.concat(want))).toBe(true);
    });
  }

  it('an empty part has the CRC-32 of nothing', async () => {
    const file = join(dir, 'empty');
    const { crc32: crc } = await openPartWriter(file, false).close();
    expect(crc).toBe(crc32(Buffer.alloc(0)));
  });
});
