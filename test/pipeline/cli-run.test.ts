/** The README's main command, run as users run it: the real CLI in a child process. */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../helpers/cli.js';
import { StackAccess } from '../helpers/local-up.js';
import { referenceInput, WC_MAP, WC_REDUCE } from '../helpers/pipeline.js';
import { ENDPOINT, example, sortedLines, unixPipeline } from '../helpers/stack.js';

describe('mapreduce run (README)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mr-cli-run-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  /** The README command, with `extra` flags; returns the objects the job left in the job bucket. */
  async function readmeRun(name: string, extra: string[]): Promise<string[]> {
    const out = path.join(dir, name);
    const prefix = `cr-${randomBytes(5).toString('hex')}`;
    const r = await cli(
      [
        'run',
        '-i',
        'examples/data',
        '-o',
        out,
        '-m',
        'examples/wordcount/wc_map.sh',
        '-r',
        'examples/wordcount/wc_reduce.sh',
        '-R',
        '2',
        '--prefix',
        prefix,
        ...extra,
      ],
      cliEnv(path.join(dir, `state-${name}`), { AWS_ENDPOINT_URL: ENDPOINT }),
      { timeoutMs: 170_000 },
    );
    expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(readdirSync(out).sort()).toEqual(['_SUCCESS', 'part-00000', 'part-00001']);
    expect(existsSync(path.join(out, '_SUCCESS'))).toBe(true);
    const parts = ['part-00000', 'part-00001'].map((p) => readFileSync(path.join(out, p)));
    const dataDir = example('data');
    const files = Object.fromEntries(readdirSync(dataDir).map((f) => [f, readFileSync(path.join(dataDir, f))]));
    expect(sortedLines(parts)).toEqual(sortedLines(unixPipeline(referenceInput(files), WC_MAP, WC_REDUCE)));
    expect(sortedLines(parts).length).toBeGreaterThan(10);
    const access = new StackAccess(prefix);
    try {
      return (await access.blobs.list(access.names.bucket, '')).map((o) => o.key);
    } finally {
      access.close();
    }
  }

  const inputKeys = (keys: string[]) => keys.filter((k) => /^jobs\/[^/]+\/input\//.test(k));

  it('run -i examples/data -o <dir> -m wc_map.sh -r wc_reduce.sh -R 2: exit 0, _SUCCESS, 2 parts, reference output; the input is read in place', async () => {
    const keys = await readmeRun('out', []);
    expect(keys.some((k) => /^jobs\/[^/]+\/job\.json$/.test(k))).toBe(true);
    expect(inputKeys(keys)).toEqual([]);
  });

  it('the same with --upload-input: the input is copied into the job bucket, the output is the same', async () => {
    const keys = await readmeRun('out-uploaded', ['--upload-input']);
    expect(inputKeys(keys).map((k) => path.basename(k)).sort()).toEqual(readdirSync(example('data')).sort());
  });
});
