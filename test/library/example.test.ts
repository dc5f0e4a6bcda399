/**
 * examples/library, as its README says to use it: `npm install` links the package
 * through `file:../..`, `tsc` type-checks and compiles it, and its program runs a word
 * count through `runJob` against a local stack on the emulator.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { finished } from '../helpers/cli.js';
import { ENDPOINT, example, REPO, TestStack } from '../helpers/stack.js';

const LIB = path.join(REPO, 'examples', 'library');

/** Word counts the way the example's module counts: lowercase, split on anything but [a-z0-9']. */
function expectedCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const line of text.split('\n')) {
    for (const w of line.toLowerCase().split(/[^a-z0-9']+/)) if (w) counts.set(w, (counts.get(w) ?? 0) + 1);
  }
  return counts;
}

describe('examples/library', () => {
  let t: TestStack;
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mr-library-'));
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('type-checks with tsc and runs a word count through runJob on the local stack', async () => {
    const install = spawnSync('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: LIB, encoding: 'utf8' });
    expect(install.status, `${install.stdout}${install.stderr}`).toBe(0);
    const tsc = spawnSync(process.execPath, [path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', LIB], { encoding: 'utf8' });
    expect(tsc.status, `${tsc.stdout}${tsc.stderr}`).toBe(0);

    const out = path.join(dir, 'out');
    const child = spawn(process.execPath, [path.join(LIB, 'dist', 'run-wordcount.js'), example('data'), out], {
      cwd: LIB,
      env: { ...process.env, AWS_ENDPOINT_URL: ENDPOINT, MR_PREFIX: t.stack.options.prefix },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const r = await finished(child, undefined, 150_000);
    expect(r.code, `${r.stdout}\n${r.stderr}\n${t.workerLogs().slice(-3000)}`).toBe(0);
    const result = JSON.parse(r.stdout.trim().split('\n').pop()!) as { status: string; costUsd: number; counters: Record<string, number> };
    expect(result.status).toBe('SUCCEEDED');
    expect(result.costUsd).toBeGreaterThan(0);
    expect(r.stderr).toMatch(/map \d+\/\d+/); // progress events reached onProgress

    const files = readdirSync(example('data')).sort();
    const input = files.map((f) => readFileSync(path.join(example('data'), f), 'utf8')).join('\n');
    const parts = readdirSync(out).filter((f) => f.startsWith('part-')).sort();
    expect(parts).toEqual(['part-00000', 'part-00001']);
    const got = new Map<string, number>();
    for (const p of parts) {
      for (const line of readFileSync(path.join(out, p), 'utf8').split('\n')) {
        if (!line) continue;
        const [k, v] = line.split('\t');
        got.set(k!, Number(v));
      }
    }
    expect(new Map([...got].sort())).toEqual(new Map([...expectedCounts(input)].sort()));
    const lines = input.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1).length;
    expect(result.counters['WordCount.Lines']).toBeGreaterThan(0);
    expect(result.counters['WordCount.Lines']).toBeLessThanOrEqual(lines);
  });
});
