/**
 * The fault tests' job: a deterministic text input, an index mapper and reducer that can
 * be made slow enough to interrupt, a mapper that always fails, and the byte-for-byte
 * comparisons of their output.
 */
import type { ManifestInput } from '../../core/manifest.js';
import type { JobRecord } from '../../core/model.js';
import { type CounterName, Counters, frameworkCounter } from '../../core/reporter.js';
import { INDEX_REDUCER } from '../../scripts/index-reducer.js';
import type { TestStack } from './stack.js';


/**
 * A deterministic text input: `lines` lines of words drawn from a small vocabulary
 * by a fixed LCG, so that keys repeat across splits and every run sees the same bytes.
 */
export function syntheticText(lines: number, seed = 42): Buffer {
  const vocab = (
    'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike ' +
    'november oscar papa quebec romeo sierra tango uniform victor whiskey xray yankee zulu'
  ).split(' ');
  let x = seed >>> 0;
  const next = () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x;
  };
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    const n = 3 + (next() % 8);
    const words: string[] = [];
    for (let j = 0; j < n; j++) words.push(vocab[next() % vocab.length] as string);
    out.push(words.join(' '));
  }
  return Buffer.from(`${out.join('\n')}\n`);
}

/**
 * Test mapper: `word<TAB>line-number-within-split` for every word, after sleeping
 * MAP_SLEEP seconds so a test can interrupt it in the middle of the task.
 */
export { INDEX_REDUCER };

export const INDEX_MAPPER = `#!/bin/sh
export LC_ALL=C
sleep "\${MAP_SLEEP:-0}"
awk '{ for (i = 1; i <= NF; i++) print $i "\\t" NR }'
`;


/** A mapper that always fails, with a recognisable stderr line. */
export const FAILING_MAPPER = `#!/bin/sh
echo "fault-test: mapper refuses record 1 (exit 1)" >&2
exit 1
`;

/** Upload a script body as a shipped file (workers make every shipped file executable). */
export async function putScript(t: TestStack, key: string, body: string): Promise<string> {
  await t.blobs.putBytes(t.bucket, key, body);
  return `s3://${t.bucket}/${key}`;
}

/** The index job over `input` (scripts shipped, 4 maps, 2 reducers) with these step env vars; `name` keys its objects. */
export async function indexJobBase(t: TestStack, name: string, input: Buffer, env: Record<string, string>): Promise<Omit<ManifestInput, 'output'>> {
  const files = [
    await putScript(t, `code/${name}/index_map.sh`, INDEX_MAPPER),
    await putScript(t, `code/${name}/index_reduce.sh`, INDEX_REDUCER),
  ];
  return {
    input: await t.putInput(`in/${name}/`, { 'words.txt': input }),
    mapper: 'index_map.sh',
    reducer: 'index_reduce.sh',
    files,
    numMappers: 4,
    numReducers: 2,
    env,
  } as Omit<ManifestInput, 'output'>;
}

/** Sum of the count column of the index job's output, i.e. the number of words it saw. */
export function indexWordTotal(parts: Buffer[]): number {
  let total = 0;
  for (const line of Buffer.concat(parts).toString('latin1').split('\n')) {
    if (line) total += Number(line.split('\t')[1]);
  }
  return total;
}

export function countWords(text: Buffer): number {
  return text
    .toString('latin1')
    .split(/\s+/)
    .filter((w) => w.length > 0).length;
}

/** Throw a readable error unless every part file is byte-identical. */
export function expectIdenticalParts(actual: Buffer[], expected: Buffer[], what: string): void {
  if (actual.length !== expected.length) {
    throw new Error(`${what}: ${actual.length} part files, expected ${expected.length}`);
  }
  actual.forEach((a, i) => {
    const e = expected[i] as Buffer;
    if (!a.equals(e)) {
      throw new Error(`${what}: part-${i} differs (${a.length} bytes vs ${e.length} expected)`);
    }
  });
}


/** A job's counters with sorted names, for comparing runs. */
export function sortedCounters(job: JobRecord): Record<string, number> {
  return Object.fromEntries(Object.entries(job.counters).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Counters of records and bytes: each task adds them once, whatever its attempts did. */
export const DATA_COUNTERS: CounterName[] = [
  Counters.MAP_INPUT_RECORDS,
  Counters.MAP_INPUT_BYTES,
  Counters.MAP_OUTPUT_RECORDS,
  Counters.MAP_OUTPUT_BYTES,
  Counters.REDUCE_INPUT_GROUPS,
  Counters.REDUCE_INPUT_RECORDS,
  Counters.REDUCE_OUTPUT_RECORDS,
  Counters.OUTPUT_BYTES,
];
export const dataCounters = (job: JobRecord) => DATA_COUNTERS.map((c) => [c, job.counters[frameworkCounter(c)]]);
