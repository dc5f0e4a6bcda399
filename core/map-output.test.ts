import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectBatches } from '../test/helpers/batches.js';
import { PartitionedFileWriter, readFileRange, readPartition } from './map-output.js';
import { batchesOf } from './merge.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-map-output-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('PartitionedFileWriter', () => {
  it('without a checksum (a spill run, a store that does not check it): the same bytes and offsets, no CRC-32', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `k${i % 97}\t${'v'.repeat(i % 300)}`);
    const infos = [];
    for (const checksum of [true, false]) {
      const w = new PartitionedFileWriter(join(dir, `out-${checksum}`), 3, checksum);
      await w.writePartition(0, batchesOf(lines.slice(0, 2000), 64));
      await w.writePartition(2, batchesOf(lines.slice(2000), 64));
      infos.push(await w.close());
    }
    const [withCrc, without] = infos;
    expect(withCrc!.crc32).toBe(crc32(await readFile(join(dir, 'out-true'))));
    expect(without!.crc32).toBeUndefined();
    expect({ ...without, crc32: 0 }).toEqual({ ...withCrc, crc32: 0 });
    expect((await readFile(join(dir, 'out-false'))).equals(await readFile(join(dir, 'out-true')))).toBe(true);
  });

  it('writes partitions back to back with R+1 offsets', async () => {
    const path = join(dir, 'out');
    const w = new PartitionedFileWriter(path);
    await w.writePartition(0, batchesOf(['a\t1', 'b\t2'], 1));
    await w.writePartition(1, batchesOf([]));
    await w.writePartition(2, [['\xff\xfe\tv\r', ''], []]);
    const info = await w.close();
    const expected = Buffer.from('a\t1\nb\t2\n\xff\xfe\tv\r\n\n', 'latin1');
    expect(info).toEqual({ offsets: [0, 8, 8, 15], bytes: 15, records: 4, crc32: crc32(expected) });
    const bytes = await readFile(path);
    expect(bytes.equals(expected)).toBe(true);
    expect(await collectBatches(readPartition(path, info.offsets, 0))).toEqual(['a\t1', 'b\t2']);
    expect(await collectBatches(readPartition(path, info.offsets, 1))).toEqual([]);
    expect(await collectBatches(readPartition(path, info.offsets, 2, { highWaterMark: 2 }))).toEqual(['\xff\xfe\tv\r', '']);
  });

  it('records skipped partitions as empty and pads to numPartitions', async () => {
    const w = new PartitionedFileWriter(join(dir, 'out'), 5);
    await w.writePartition(2, batchesOf(['x']));
    const info = await w.close();
    expect(info.offsets).toEqual([0, 0, 0, 2, 2, 2]);
  });

  it('creates an empty file when nothing is written', async () => {
    const path = join(dir, 'empty');
    const info = await new PartitionedFileWriter(path, 2).close();
    expect(info).toEqual({ offsets: [0, 0, 0], bytes: 0, records: 0, crc32: crc32(Buffer.alloc(0)) });
    expect((await readFile(path)).length).toBe(0);
  });

  it('refuses partitions out of order or out of range', async () => {
    const w = new PartitionedFileWriter(join(dir, 'out'), 2);
    await w.writePartition(1, batchesOf(['x']));
    await expect(w.writePartition(0, batchesOf(['y']))).rejects.toThrow(/in order/);
    await expect(w.writePartition(2, batchesOf(['y']))).rejects.toThrow(/out of range/);
    await w.close();
    await expect(w.close()).rejects.toThrow(/closed twice/);
  });

  it('handles many batches with backpressure and reads ranges back exactly', async () => {
    const path = join(dir, 'big');
    const w = new PartitionedFileWriter(path);
    const lines = Array.from({ length: 50_000 }, (_, i) => `key${i % 977}\t${'v'.repeat(i % 50)}`);
    await w.writePartition(0, batchesOf(lines, 1000));
    const info = await w.close();
    expect(info.records).toBe(lines.length);
    expect(info.bytes).toBe(lines.reduce((n, l) => n + l.length + 1, 0));
    const back = await collectBatches(readFileRange(path, 0, info.bytes, { highWaterMark: 65536 }));
    expect(back.length).toBe(lines.length);
    expect(back.join('\n') === lines.join('\n')).toBe(true);
    expect(info.crc32).toBe(crc32(await readFile(path)));
  });

  it('writes a batch bigger than its staging buffer whole, and its CRC-32 is the whole file\'s', async () => {
    const path = join(dir, 'huge');
    const w = new PartitionedFileWriter(path, 3);
    const long = `k\t${'\xe9'.repeat(3 * 1024 * 1024)}`;
    await w.writePartition(0, batchesOf(['a\t1'], 1));
    await w.writePartition(1, [[long, 'z\t2']]);
    const info = await w.close();
    const file = await readFile(path);
    expect(file.equals(Buffer.from(`a\t1\n${long}\nz\t2\n`, 'latin1'))).toBe(true);
    expect(info.offsets).toEqual([0, 4, file.length, file.length]);
    expect(info.crc32).toBe(crc32(file));
  });

  it('gives each of several writers (reusing staging buffers, two at once) exactly its bytes', async () => {
    // Full 1 MiB staging buffers come back once written and serve the next flush of any writer.
    const block = (seed: number, n: number) => Buffer.from(Array.from({ length: n }, (_, i) => `k${seed}-${i}\t${'x'.repeat((i * seed) % 90)}\n`).join(''), 'latin1');
    const write = async (name: string, seed: number) => {
      const w = new PartitionedFileWriter(join(dir, name), 2);
      const want: Buffer[] = [];
      for (let p = 0; p < 2; p++) {
        const blocks = Array.from({ length: 12 }, (_, i) => block(seed + p * 31 + i, 4000));
        want.push(...blocks);
        await w.writePartition(p, blocks.map((b) => ({ bytes: b, lines: 4000 })));
      }
      const info = await w.close();
      const file = await readFile(join(dir, name));
      expect(file.equals(Buffer.concat(want))).toBe(true);
      expect(info.crc32).toBe(crc32(file));
    };
    for (let round = 0; round < 3; round++) await Promise.all([write(`a${round}`, 3 + round), write(`b${round}`, 7 + round)]);
  });

  it('fails when the file cannot be written', async () => {
    const w = new PartitionedFileWriter(join(dir, 'missing-dir', 'out'));
    await expect(
      (async () => {
        await w.writePartition(0, batchesOf(['x']));
        await w.close();
      })(),
    ).rejects.toThrow(/ENOENT/);
  });
});
