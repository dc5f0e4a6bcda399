/**
 * The emulator's CPU per S3 request type, on the requests a TeraSort job makes (issue 13):
 * PUT of a map output or a part from a file (how workers upload), ranged GETs of an input
 * split and of a reducer's slices, CopyObject at commit, DeleteObjects at the end. Starts a
 * launcher emulator on `--endpoint` (a free port), and reads its CPU (user + system) from
 * /proc before and after each batch, and this process's own CPU (the SDK client's, as in a worker).
 *
 *   node dist/scripts/micro/emulator-requests.js --endpoint http://127.0.0.1:5301 [--size 64M] [--reps 4]
 */
import { CopyObjectCommand, CreateBucketCommand, DeleteObjectsCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { BlobStore } from '../../aws/blob-store.js';
import { createClients } from '../../aws/clients.js';
import { ensureEmulator } from '../../local/emulator.js';
import { arg, MIB, parseSize } from './micro-support.js';

/** Linux's USER_HZ, the unit of /proc/<pid>/stat's times. */
const CLOCK_TICKS = 100;

/** User + system CPU seconds of a process. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function drain(body: Readable): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += (chunk as Buffer).length;
  return n;
}

async function main(): Promise<void> {
  const endpoint = arg('endpoint') ?? 'http://127.0.0.1:5301';
  const size = parseSize(arg('size') ?? '64M');
  const reps = Number(arg('reps') ?? 4);
  const emulator = await ensureEmulator({ endpoint });
  if (!emulator.started) throw new Error(`something already answers on ${endpoint}: give a free port`);
  try {
    const clients = createClients({ endpoint });
    const store = new BlobStore(clients);
    const bucket = 'micro-emulator';
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const file = path.join(os.tmpdir(), `emulator-requests-${process.pid}`);
    writeFileSync(file, randomBytes(size));
    const rows: [string, number, number][] = [];
    const measure = async (name: string, run: (i: number) => Promise<unknown>) => {
      const before = cpuSeconds(emulator.pid);
      const client = process.cpuUsage();
      for (let i = 0; i < reps; i++) await run(i);
      const used = process.cpuUsage(client);
      rows.push([name, (cpuSeconds(emulator.pid) - before) / reps, (used.user + used.system) / 1e6 / reps]);
    };
    await measure('PUT from a file (map output, part)', (i) => store.putFile(bucket, `obj-${i}`, file));
    await measure('GET whole (input split)', (i) => store.getObject(bucket, `obj-${i}`).then(drain));
    const lean = store.rangeReader(bucket);
    await measure('GET whole through the lean range reader', (i) => lean(`obj-${i}`, 0, size).then(drain));
    const quarter = Math.floor(size / 4);
    await measure('4 ranged GETs of a quarter (slices)', async (i) => {
      for (let q = 0; q < 4; q++) await store.getRange(bucket, `obj-${i}`, q * quarter, (q + 1) * quarter).then(drain);
    });
    await measure('CopyObject (commit)', (i) =>
      clients.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: `copy-${i}`, CopySource: `${bucket}/obj-${i}` })),
    );
    await measure('GET whole of a copy', (i) =>
      clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: `copy-${i}` })).then((o) => drain(o.Body as Readable)),
    );
    await measure('DeleteObjects (2 keys)', (i) =>
      clients.s3.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: `obj-${i}` }, { Key: `copy-${i}` }] } }),
      ),
    );
    console.log(`emulator CPU (user + system) per request, ${size / MIB} MiB objects, mean of ${reps}, load ${os.loadavg()[0]!.toFixed(2)}`);
    console.log('| request | emulator CPU ms | ms per MiB | client (worker) CPU ms |');
    console.log('|---|---|---|---|');
    for (const [name, s, c] of rows) {
      console.log(`| ${name} | ${(s * 1000).toFixed(1)} | ${((s * 1000 * MIB) / size).toFixed(2)} | ${(c * 1000).toFixed(1)} |`);
    }
  } finally {
    await emulator.stop();
  }
}

await main();
