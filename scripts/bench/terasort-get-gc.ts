/**
 * `node --max-old-space-size=1024 --heap-growing-percent=100 --trace-gc dist/scripts/bench/terasort-get-gc.js
 *  --endpoint http://127.0.0.1:<free port> [--mode sdk|lean|raw] [--reps 8]` (measurement only, issue 13):
 * what one map's input GET (a 64 MiB ranged GET, as TeraSort's splits) costs the client.
 *
 * - `sdk`: `BlobStore.getRange` (the SDK's GetObject, what a map reads its split with), the body
 *   read with `for await` and dropped.
 * - `lean`: the same through `BlobStore.rangeReader` (aws/lean-range-reader.ts: signed and sent
 *   without the SDK's middleware, what a reduce fetches its slices with).
 * - `raw`: the same GET signed with SigV4 (UNSIGNED-PAYLOAD) and read from a `net` socket with
 *   `onread` into one reused 1 MiB buffer: no fresh buffer per socket read. Not a reader for
 *   the framework (no keep-alive, no chunked framing, no retries): the floor a socket reader could reach.
 *
 * Prints the client CPU (user + system) of each GET after a warm-up; with `--trace-gc` the
 * mark-compacts between the printed `GET n start` lines are each GET's.
 */
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { type S3Client, CreateBucketCommand } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { BlobStore } from '../../aws/blob-store.js';
import { createClients, destroyClients } from '../../aws/clients.js';
import { ensureEmulator } from '../../local/emulator.js';

const SIZE = 64 * 1024 * 1024;
/** The emulator's credentials: it checks that a request is signed, not by whom. */
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' };

/** One signed ranged GET read into a reused buffer; resolves with the body's length. */
async function rawGet(s3: S3Client, url: URL, bucket: string, key: string): Promise<number> {
  // The client's own hash (what the lean range reader signs with, aws/lean-range-reader.ts).
  const signer = new SignatureV4({ credentials: CREDENTIALS, region: 'us-east-1', service: 's3', sha256: s3.config.sha256 });
  const host = `${url.hostname}:${url.port}`;
  const req = await signer.sign({
    method: 'GET',
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: `/${bucket}/${key}`,
    query: {},
    headers: { host, range: `bytes=0-${SIZE - 1}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
  });
  return new Promise((resolve, reject) => {
    let head = true;
    let want = Number.POSITIVE_INFINITY;
    let body = 0;
    const sock = net.connect({
      host: url.hostname,
      port: Number(url.port),
      onread: {
        buffer: Buffer.allocUnsafe(1024 * 1024),
        callback(n: number, b: Uint8Array) {
          let off = 0;
          if (head) {
            const bytes = Buffer.from(b.buffer, b.byteOffset, n);
            const end = bytes.indexOf('\r\n\r\n');
            const h = bytes.subarray(0, end).toString('latin1');
            if (!h.startsWith('HTTP/1.1 206')) reject(new Error(h.slice(0, 60)));
            want = Number(/content-length: (\d+)/i.exec(h)?.[1]);
            off = end + 4;
            head = false;
          }
          body += n - off;
          if (body >= want) {
            sock.end();
            resolve(body);
          }
          return true;
        },
      },
    });
    sock.on('error', reject);
    sock.write(`GET /${bucket}/${key} HTTP/1.1\r\n${Object.entries(req.headers).map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`);
  });
}

async function main(): Promise<void> {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const endpoint = arg('endpoint') ?? 'http://127.0.0.1:5301';
  const mode = arg('mode') ?? 'sdk';
  const reps = Number(arg('reps') ?? 8);
  const emulator = await ensureEmulator({ endpoint });
  if (!emulator.started) throw new Error(`something already answers on ${endpoint}: give a free port`);
  const clients = createClients({ endpoint });
  try {
    const store = new BlobStore(clients);
    const bucket = 'get-gc';
    await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await store.putBytes(bucket, 'split', randomBytes(SIZE));
    const cpu: number[] = [];
    for (let r = 0; r <= reps; r++) {
      console.log(`GET ${r} start`);
      const before = process.cpuUsage();
      let n = 0;
      if (mode === 'raw') n = await rawGet(clients.s3, new URL(endpoint), bucket, 'split');
      else if (mode === 'lean') for await (const chunk of await store.rangeReader(bucket)('split', 0, SIZE)) n += (chunk as Buffer).length;
      else for await (const chunk of await store.getRange(bucket, 'split', 0, SIZE)) n += (chunk as Buffer).length;
      if (n !== SIZE) throw new Error(`read ${n} of ${SIZE} bytes`);
      const used = process.cpuUsage(before);
      if (r > 0) cpu.push(Math.round((used.user + used.system) / 1000)); // the first is the warm-up
    }
    console.log(`${mode}: client CPU ms per 64 MiB GET: ${cpu.join(' ')}`);
  } finally {
    destroyClients(clients);
    await emulator.stop();
  }
}

await main();
