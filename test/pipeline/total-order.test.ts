/**
 * Total-order sort through the real CLI on one `local up` stack: identity mapper and
 * reducer (`cat`), R = 4, several map tasks; the concatenated parts must equal
 * `LC_ALL=C sort` of the input byte for byte, and every part must sort before the next,
 * also when one key holds 30 % of the records.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, Scratch } from '../helpers/cli.js';
import { LocalUp, uniquePrefix } from '../helpers/local-up.js';
import { prng } from '../helpers/pipeline.js';

const PREFIX = uniquePrefix('totalorder');
const R = 4;
let s: Scratch;
let env: NodeJS.ProcessEnv;
let up: LocalUp;

/** Run a total-order sort of local dir `input` into local dir `out`; returns the part files in part order. */
async function sortJob(input: string, out: string, ...extra: string[]): Promise<Buffer[]> {
  const args = ['run', '-i', input, '-o', out, '-m', 'cat', '-r', 'cat', '-R', String(R), '--partitioner', 'total-order'];
  const r = await cli([...args, ...extra, '--prefix', PREFIX], env, { cwd: s.dir, timeoutMs: 170_000 });
  expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return readdirSync(out)
    .filter((f) => f.startsWith('part-'))
    .sort()
    .map((f) => readFileSync(path.join(out, f)));
}

/** Write `files` input files of lines; returns all input bytes. */
function writeInput(dir: string, files: string[][]): Buffer {
  files.forEach((rows, i) => s.file(`${dir}/in-${i}.tsv`, `${rows.join('\n')}\n`));
  return Buffer.concat(files.map((rows) => Buffer.from(`${rows.join('\n')}\n`)));
}

const cSort = (input: Buffer): Buffer => execFileSync('sort', [], { input, env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 1 << 28 });

/** Every line of part p sorts (bytes) before every line of part p+1; the keys of non-empty parts are disjoint. */
function expectPartsInOrder(parts: Buffer[]): void {
  const lines = parts.map((b) => b.toString('latin1').split('\n').filter((l) => l !== ''));
  const nonEmpty = lines.filter((l) => l.length > 0);
  for (let i = 1; i < nonEmpty.length; i++) {
    const last = Buffer.from(nonEmpty[i - 1]!.at(-1)!.split('\t')[0]!, 'latin1');
    const first = Buffer.from(nonEmpty[i]![0]!.split('\t')[0]!, 'latin1');
    expect(Buffer.compare(last, first), `part boundary ${i}`).toBe(-1);
  }
}

/** A random printable key, sometimes with UTF-8 bytes above 0x7f so byte order matters. */
function key(rand: () => number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789é€';
  let k = '';
  const n = 3 + Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) k += alphabet[Math.floor(rand() * alphabet.length)];
  return k;
}

beforeAll(async () => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  up = await LocalUp.start(PREFIX, env, 2);
}, 120_000);

afterAll(async () => {
  try {
    if (up) await up.stop();
  } finally {
    s?.remove();
  }
});

describe('total-order sort (R = 4, identity mapper and reducer)', () => {
  it('concatenated parts equal LC_ALL=C sort of the input, byte for byte; every part is non-empty and before the next', async () => {
    const rand = prng(41);
    // Unique keys: the values of one key reach a reducer in no set order (as in Hadoop), and `sort` orders them.
    const files = Array.from({ length: 5 }, (_, f) =>
      Array.from({ length: 1500 }, (_, i) => `${key(rand)}.${f}.${i}\tv${Math.floor(rand() * 1e6)}`),
    );
    const input = writeInput('uniform', files);
    const parts = await sortJob('uniform', s.path('out-uniform'));
    expect(parts).toHaveLength(R);
    expect(Buffer.concat(parts).equals(cSort(input))).toBe(true);
    expectPartsInOrder(parts);
    // Sampling spreads the records: no part is empty, none holds more than half.
    for (const p of parts) {
      expect(p.length).toBeGreaterThan(0);
      expect(p.length).toBeLessThan(input.length / 2);
    }
  }, 200_000);

  it('skewed input (one key holds 30 % of the records) finishes, sorted; the hot key is in one part only', async () => {
    const rand = prng(43);
    const files = Array.from({ length: 4 }, (_, f) =>
      // The hot key's records are equal lines, so that byte equality with `sort` does not depend on the
      // order of one key's values (unspecified, as in Hadoop); the other keys are unique.
      Array.from({ length: 1500 }, (_, i) => (rand() < 0.3 ? 'hot\t1' : `${key(rand)}.${f}.${i}\ty${i}`)),
    );
    const input = writeInput('skewed', files);
    const parts = await sortJob('skewed', s.path('out-skewed'), '-D', 'mapreduce.totalorderpartitioner.samples=400');
    expect(parts).toHaveLength(R);
    expect(Buffer.concat(parts).equals(cSort(input))).toBe(true);
    expectPartsInOrder(parts);
    expect(input.toString('latin1').split('\n').filter((l) => l === 'hot\t1').length).toBeGreaterThan(0.25 * 6000);
    const holding = parts.filter((p) => p.toString('latin1').split('\n').some((l) => l.startsWith('hot\t')));
    expect(holding).toHaveLength(1);
    expect(parts.filter((p) => p.length > 0).length).toBeGreaterThanOrEqual(3);
  }, 200_000);
});
