/**
 * Micro-benchmark of the repeat-detection policy (core/repeats.ts): CPU time of the
 * map side of an attempt (sort with spills and merge; and with a module combiner, the
 * aggregator in front), with the policy and with counting off, on record streams of
 * different shapes. Not a test and not part of `npm run bench`:
 * run it by hand on a quiet machine and note `uptime` with the figures.
 *
 *   npx tsx scripts/micro/repeat-policy.ts [records=2000000]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExternalSorter } from '../../core/external-sort.js';
import { PartitionedFileWriter } from '../../core/map-output.js';
import { mulberry32 } from '../../core/prng.js';
import { MIN_REPEATS, REPEAT_PROBE_RECORDS } from '../../core/repeats.js';
import { RepeatAggregator } from '../../worker/repeat-aggregator.js';

const N = Number(process.argv[2] ?? 2_000_000);
const BATCH = 8192;
const BUFFER_BYTES = Math.round((N / 25e6) * 64 * 1024 * 1024);

/** `word\t1` records over a vocabulary of `vocab` words, Zipf-like (s = 1) or uniform. */
function wordRecords(vocab: number, zipf: boolean, seed = 1): string[] {
  const rnd = mulberry32(seed);
  const words = Array.from({ length: vocab }, (_, i) => `w${(i * 2654435761) % 4294967291}`.slice(0, 3 + (i % 9)) + i);
  const pick = zipf
    ? (() => {
        // Inverse CDF of a Zipf(1) law over `vocab` ranks, approximated by exp(u * ln(vocab)).
        const ln = Math.log(vocab);
        return () => Math.min(vocab - 1, Math.floor(Math.exp(rnd() * ln)) - 1);
      })()
    : () => Math.floor(rnd() * vocab);
  return Array.from({ length: N }, () => `${words[pick()]}\t1`);
}

/** 100-byte distinct records (a sort job's shape: nothing repeats). */
function uniqueRecords(seed = 2): string[] {
  const rnd = mulberry32(seed);
  return Array.from({ length: N }, (_, i) => `${Math.floor(rnd() * 1e12).toString(36)}${i}\t${'x'.repeat(80)}`);
}

function cpuMs(fn: () => void | Promise<void>): Promise<number> {
  const t0 = process.cpuUsage();
  return Promise.resolve(fn()).then(() => {
    const d = process.cpuUsage(t0);
    return (d.user + d.system) / 1000;
  });
}

async function fastest(fn: () => void | Promise<void>, runs = 3): Promise<number> {
  const xs: number[] = [];
  for (let i = 0; i < runs; i++) xs.push(await cpuMs(fn));
  return Math.min(...xs);
}

/**
 * The map-side sort of one attempt (ExternalSorter: buffer, spills to disk, final merge)
 * with a buffer of BUFFER_BYTES. Records per buffer matter, not absolute sizes: a 128 MiB
 * word-count split is ~25M records against a 64 MiB buffer; 2M records against 5 MiB
 * keep that ratio.
 */
async function mapSide(lines: string[], countRepeats: boolean, aggregate: boolean): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'repeat-policy-'));
  const sum = (key: string, values: string[]) => [`${key}\t${values.reduce((s, v) => s + Number(v), 0)}`];
  try {
    const sorter = new ExternalSorter({
      numPartitions: 4,
      bufferBytes: aggregate ? BUFFER_BYTES / 2 : BUFFER_BYTES,
      spillDir: dir,
      countRepeats,
      combiner: aggregate ? { kind: 'group', fn: sum } : undefined,
    });
    const agg = aggregate && countRepeats ? new RepeatAggregator(sum, BUFFER_BYTES / 2, (l) => sorter.add(l)) : undefined;
    for (let i = 0; i < lines.length; i += BATCH) {
      const batch = lines.slice(i, i + BATCH);
      await (agg ? agg.add(batch) : sorter.add(batch));
    }
    await agg?.flush();
    const writer = new PartitionedFileWriter(join(dir, 'out'));
    await sorter.finish((p, sorted) => writer.writePartition(p, sorted));
    await writer.close();
    await sorter.cleanup();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const shapes: [string, () => string[]][] = [
  ['zipf vocab 1k', () => wordRecords(1_000, true)],
  ['zipf vocab 50k', () => wordRecords(50_000, true)],
  ['zipf vocab 1M', () => wordRecords(1_000_000, true)],
  ['uniform vocab 1M', () => wordRecords(1_000_000, false)],
  ['distinct 100 B', () => uniqueRecords()],
];

console.log(`records per shape: ${N}; policy: probe ${REPEAT_PROBE_RECORDS}, min repeats ${MIN_REPEATS}`);
console.log('CPU ms, fastest of 3 (steadier than a median under load): with the policy / counting off');
console.log(`buffer ${(BUFFER_BYTES / 2 ** 20).toFixed(1)} MiB (the records-per-buffer ratio of a 128 MiB split in 64 MiB)`);
console.log('shape | distinct share | sort, no combiner | aggregator + sort + combiner');
for (const [name, make] of shapes) {
  const lines = make();
  const share = new Set(lines).size / lines.length;
  const sb = [await fastest(() => mapSide(lines, true, false)), await fastest(() => mapSide(lines, false, false))];
  const ag = [await fastest(() => mapSide(lines, true, true)), await fastest(() => mapSide(lines, false, true))];
  const f = ([a, b]: number[]) => `${Math.round(a!)} / ${Math.round(b!)}`;
  console.log(`${name} | ${share.toFixed(3)} | ${f(sb)} | ${f(ag)}`);
}
