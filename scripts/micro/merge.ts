/**
 * The reduce side's byte merge alone (core/byte-merge.ts), in-process on sources held in
 * memory: a corpus file is cut into `--maps` line-aligned splits, each split's words are
 * counted (as a word count's combiner leaves them) and sorted by key bytes, and the splits
 * are merged `--reps` times (after one warm-up). Prints CPU milliseconds per merge (median)
 * (and the mean: /proc ticks are 10 ms) and the merged lines and groups. Not a test and not part of `npm run bench`: run it by
 * hand, note `uptime` with the figures; run base and new builds alternately.
 *
 *   npm run build && node dist/scripts/micro/merge.js --file /tmp/corpus.txt [--maps 8] [--reps 5]
 *   node dist/scripts/micro/merge.js --file f --lines     # the splits' lines as they are (TeraSort-like records)
 */
import { readFileSync } from 'node:fs';
import { mergeSortedBytes } from '../../core/byte-merge.js';
import { arg, cpuSelf, flag, median } from './micro-support.js';

/** Byte order of keys (the bytes before the first tab), as the merge orders them. */
function byKey(a: Buffer, b: Buffer): number {
  const ta = a.indexOf(0x09);
  const tb = b.indexOf(0x09);
  return Buffer.compare(ta < 0 ? a : a.subarray(0, ta), tb < 0 ? b : b.subarray(0, tb));
}

/** One split's sorted records: its word counts (`word\tn`), or with `lines` its lines. */
function sortedSplit(text: string, lines: boolean): Buffer {
  let records: Buffer[];
  if (lines) records = text.split('\n').filter((l) => l !== '').map((l) => Buffer.from(l, 'latin1'));
  else {
    const counts = new Map<string, number>();
    for (const w of text.split(/\s+/)) if (w !== '') counts.set(w, (counts.get(w) ?? 0) + 1);
    records = [...counts].map(([w, n]) => Buffer.from(`${w}\t${n}`, 'latin1'));
  }
  records.sort(byKey);
  return Buffer.concat(records.flatMap((r) => [r, Buffer.from('\n')]));
}

async function* chunks(buf: Buffer, size: number): AsyncIterable<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function main(): Promise<void> {
  const file = arg('file');
  if (!file) throw new Error('--file is required');
  const maps = Number(arg('maps') ?? 8);
  const reps = Number(arg('reps') ?? 5);
  const text = readFileSync(file, 'latin1');
  const splits: Buffer[] = [];
  for (let i = 0, from = 0; i < maps; i++) {
    let to = i === maps - 1 ? text.length : text.indexOf('\n', Math.floor((text.length * (i + 1)) / maps)) + 1;
    if (to <= 0) to = text.length;
    splits.push(sortedSplit(text.slice(from, to), flag('lines')));
    from = to;
  }
  const times: number[] = [];
  let lines = 0;
  let groups = 0;
  for (let r = 0; r <= reps; r++) {
    const c0 = cpuSelf();
    lines = 0;
    groups = 0;
    for await (const b of mergeSortedBytes(splits.map((s) => chunks(s, 256 * 1024)))) {
      lines += b.lines;
      groups += b.groups;
    }
    if (r > 0) times.push((cpuSelf() - c0) * 1000);
  }
  const load = readFileSync('/proc/loadavg', 'latin1').split(' ')[0];
  console.log(JSON.stringify({ maps, bytes: splits.reduce((n, s) => n + s.length, 0), lines, groups, cpu_ms_median: Math.round(median(times)), cpu_ms_mean: Math.round(times.reduce((a, b) => a + b, 0) / times.length), cpu_ms: times.map(Math.round), load }));
}

await main();
