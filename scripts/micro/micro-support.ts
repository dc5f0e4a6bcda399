/**
 * What the micro harnesses share (scripts/micro/attempts.ts, sort-attempts.ts): command-line
 * options, local files standing in for S3 and the task table, and CPU seconds from /proc.
 */
import { copyFile, mkdir, stat, writeFile } from 'node:fs/promises';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { TaskItem } from '../../aws/task-store.js';
import { DEFAULT_TIMINGS } from '../../core/config.js';
import type { Services } from '../../services/context.js';

export const MIB = 1024 * 1024;
/** The one bucket the local files stand in for (a valid S3 name: the manifest checks it). */
export const BUCKET = 'micro';

/** The value after `--name` on the command line. */
export function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}

export const flag = (name: string) => process.argv.includes(`--${name}`);

/** `16M`, `1G`, `512K` or a byte count. */
export function parseSize(s: string): number {
  const m = /^(\d+)([KMG]?)$/i.exec(s);
  if (!m) throw new Error(`bad size ${s}`);
  return Number(m[1]) * ({ '': 1, K: 1024, M: MIB, G: 1024 * MIB } as Record<string, number>)[m[2]!.toUpperCase()]!;
}

/** Files stand in for objects: bucket/key → a path under `dir`. */
export function localServices(dir: string, committedMaps: () => TaskItem[]): Services {
  const file = (bucket: string, key: string) => (key.startsWith('/') ? key : path.join(dir, bucket, key));
  // The corpus (an absolute path) is read as a local stack reads `file://` input
  // (services/input-source.ts: 1 MiB reads, so 1 MiB chunk strings), other files in 64 KiB
  // pieces; MR_MICRO_INPUT_CHUNK (bytes) overrides the corpus's.
  const inputChunk = Number(process.env.MR_MICRO_INPUT_CHUNK ?? MIB);
  const getRange = async (bucket: string, key: string, start: number, endExclusive?: number): Promise<Readable> =>
    createReadStream(file(bucket, key), {
      start,
      end: endExclusive === undefined ? undefined : endExclusive - 1,
      highWaterMark: key.startsWith('/') ? inputChunk : 64 * 1024,
    });
  const blobs = {
    getRange,
    // The reduce attempt's slice reads (aws/blob-store.ts `rangeReader`: one client per bucket).
    rangeReader: (bucket: string) => (key: string, start: number, endExclusive: number) => getRange(bucket, key, start, endExclusive),
    putFile: async (bucket: string, key: string, from: string): Promise<number> => {
      const to = file(bucket, key);
      await mkdir(path.dirname(to), { recursive: true });
      await copyFile(from, to);
      return (await stat(to)).size;
    },
    putBytes: async (bucket: string, key: string, body: string | Uint8Array) => {
      const to = file(bucket, key);
      await mkdir(path.dirname(to), { recursive: true });
      await writeFile(to, body);
    },
    // No connections to close: local files (the reduce attempt asks after its fetch).
    closeIdleConnections: () => 0,
  };
  const tasks = { list: async () => committedMaps(), listMapOutputs: async () => committedMaps() };
  const log = { info() {}, warn() {}, error() {}, debug() {} };
  return { names: { bucket: BUCKET }, blobs, inputs: blobs, tasks, log, now: Date.now, timings: DEFAULT_TIMINGS } as unknown as Services;
}

function statFields(): string[] {
  return readFileSync('/proc/self/stat', 'latin1').split(') ')[1]!.split(' ');
}

/** CPU seconds of this process (utime+stime, clock ticks of 1/100 s). */
export function cpuSelf(): number {
  const f = statFields();
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** CPU seconds of this process's reaped children (cutime+cstime). */
export function cpuChildren(): number {
  const f = statFields();
  return (Number(f[13]) + Number(f[14])) / 100;
}

export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
