/**
 * `node --expose-gc --heap-growing-percent=100 dist/scripts/bench/fetch-memory.js
 * [--slices 512] [--concurrency 8] [--reps 3] [--endpoint URL] [--client lean|cached|general]`:
 * what one reducer's shuffle fetch leaves in V8's old generation. Puts `--slices` tiny
 * objects in a bucket, then, after a full collection, fetches them as a reduce attempt
 * does (worker/slice-fetch.ts, one ranged GET each, `--concurrency` at once) and prints
 * the old space's used size before, right after the fetch (live data plus the garbage
 * the young generation promoted: it stays until V8's next full collection), and after a
 * full collection (what the fetch keeps live: its segments), with the fetch's wall and
 * CPU time. By default (`--client lean`) the GETs go as a reduce's do
 * (`BlobStore.rangeReader`: signed and sent without the SDK's middleware stack,
 * aws/lean-range-reader.ts, since session 14); `--client cached` sends them through the
 * bucket's cached-middleware client (`bucketReadClient`, sessions 11-13), `--client general`
 * (or `--general-client`) through the general S3 client (before 27 Nov 2026; see
 * docs/performance.md `scale_curve`). Diagnosis only: the figures themselves come from
 * `npm run bench`.
 */
import { CreateBucketCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import v8 from 'node:v8';
import { BlobStore } from '../../aws/blob-store.js';
import { bucketReadClient } from '../../aws/bucket-readers.js';
import { createClients, destroyClients } from '../../aws/clients.js';
import { ensureEmulator } from '../../local/emulator.js';
import { DEFAULT_FETCH, SliceFetcher } from '../../worker/slice-fetch.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const MIB = 1024 * 1024;
/** Used MiB of the old generation. */
const oldUsed = () => (v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0) / MIB;
const r1 = (x: number) => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('fetch-memory needs a full collection between measurements: run it with `node --expose-gc`.');
  const slices = Number(arg('slices', '512'));
  const concurrency = Number(arg('concurrency', String(DEFAULT_FETCH.concurrency)));
  const reps = Number(arg('reps', '3'));
  const endpoint = arg('endpoint', process.env.AWS_ENDPOINT_URL ?? 'http://127.0.0.1:4566');
  const emulator = await ensureEmulator({ endpoint });
  const clients = createClients({ endpoint, region: 'us-east-1' });
  const blobs = new BlobStore(clients);
  const client = process.argv.includes('--general-client') ? 'general' : arg('client', 'lean');
  if (!['lean', 'cached', 'general'].includes(client)) throw new Error(`--client ${client}: lean, cached or general`);
  const bucket = `fetch-memory-${process.pid}`;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fetch-memory-'));
  try {
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let i = 0; i < slices; i += 32) {
      await Promise.all(Array.from({ length: Math.min(32, slices - i) }, (_, j) => blobs.putBytes(bucket, `o/${i + j}`, `k${i + j}\n`)));
    }
    for (let rep = 0; rep < reps; rep++) {
      gc();
      const before = oldUsed();
      const cpu = process.cpuUsage();
      const t0 = performance.now();
      const cached = bucketReadClient(clients, bucket);
      const read = {
        lean: blobs.rangeReader(bucket),
        cached: async (key: string, start: number, end: number) =>
          (await cached.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }))).Body as Readable,
        general: async (key: string, start: number, end: number) => (await blobs.getRange(bucket, key, start, end)) as Readable,
      }[client as 'lean' | 'cached' | 'general'];
      const fetcher = new SliceFetcher(
        read,
        mkdtempSync(path.join(dir, 'r')),
        { ...DEFAULT_FETCH, concurrency },
      );
      await fetcher.fetch(Array.from({ length: slices }, (_, i) => ({ slice: { key: `o/${i}`, start: 0, end: 2 }, index: i })));
      const ms = performance.now() - t0;
      const spent = process.cpuUsage(cpu);
      const afterFetch = oldUsed();
      gc();
      const live = oldUsed();
      if (fetcher.segments().length !== slices) throw new Error(`fetched ${fetcher.segments().length} of ${slices} slices`);
      console.log(
        JSON.stringify({
          rep,
          slices,
          concurrency,
          client,
          fetch_ms: Math.round(ms),
          fetch_cpu_ms: Math.round((spent.user + spent.system) / 1000),
          old_used_mib: { before: r1(before), after_fetch: r1(afterFetch), after_full_gc: r1(live) },
          promoted_garbage_kib_per_slice: Math.round(((afterFetch - live) * 1024) / slices),
        }),
      );
    }
  } finally {
    destroyClients(clients);
    rmSync(dir, { recursive: true, force: true });
    await emulator.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
