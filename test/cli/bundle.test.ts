/**
 * bin/mapreduce.js runs the CLI bundle (scripts/build-cli.ts, dist/bundle/), not the tsc
 * tree: a module hook records every file the CLI process loads. And a bundled `run` works
 * end to end on the emulator with a TypeScript module step: its own local stack, workers
 * started from the bundle too, whose lease keeper thread (a file the worker finds next to
 * its own module) starts; its failure to start would only be logged, so the test reads the
 * worker logs for it.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LOG_EVENTS } from '../../core/log-events.js';
import { BIN, cliEnv, finished, Output, Scratch } from '../helpers/cli.js';
import { expectNoStackProcesses, uniquePrefix } from '../helpers/local-up.js';
import { REPO } from '../helpers/stack.js';
import { parseLogRecords } from '../helpers/worker-logs.js';

const PREFIX = uniquePrefix('bundle');
let s: Scratch;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  // A load hook (in Node's hooks thread) appending each loaded URL to the file in MR_TEST_LOADED.
  s.file('hooks.mjs', "import { appendFileSync } from 'node:fs';\nexport async function load(url, context, next) {\n  appendFileSync(process.env.MR_TEST_LOADED, url + '\\n');\n  return next(url, context);\n}\n");
  s.file('register.mjs', "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n");
});

afterEach(async () => {
  await expectNoStackProcesses(PREFIX);
});

afterAll(() => s.remove());

/** Run the bin with the load hook; returns its result and the package's own files it loaded (relative paths). */
async function runRecorded(name: string, args: readonly string[]) {
  const loadedFile = s.path(`${name}.loaded`);
  const child = spawn(process.execPath, ['--import', pathToFileURL(s.path('register.mjs')).href, BIN, ...args], {
    env: { ...env, MR_TEST_LOADED: loadedFile },
    cwd: s.dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r = await finished(child, new Output(child));
  const urls = readFileSync(loadedFile, 'utf8').split('\n').filter((u) => u.startsWith('file:'));
  const repoUrl = pathToFileURL(REPO).href + '/';
  return { r, urls, own: urls.filter((u) => u.startsWith(repoUrl)).map((u) => u.slice(repoUrl.length)) };
}

describe('the CLI bundle', () => {
  it('bin/mapreduce.js loads the bundle: --version reads package.json from dist/bundle/ and loads nothing else of the package', async () => {
    const { r, urls, own } = await runRecorded('version', ['--version']);
    expect(r.code, r.stderr).toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { version: string };
    expect(r.stdout.trim()).toBe(pkg.version);
    expect(own[0]).toBe('bin/mapreduce.js');
    expect(own.slice(1).length).toBeGreaterThan(0);
    expect(own.slice(1).filter((f) => !f.startsWith('dist/bundle/'))).toEqual([]);
    expect(urls.filter((u) => u.includes('/node_modules/'))).toEqual([]);
  });

  it('a bundled `run` of a TypeScript module step succeeds on its own stack; the workers lease keeper thread starts', async () => {
    s.file('in/a.txt', 'the cat sat\non the mat\n');
    s.file('in/b.txt', 'the end\n');
    const wordcount = path.join(REPO, 'examples', 'wordcount', 'wordcount.ts');
    const { r, urls, own } = await runRecorded('run', [
      'run', '--prefix', PREFIX, '--verbose', '-i', 'in', '-o', 'out', '-m', wordcount, '-c', wordcount, '-r', wordcount, '-R', '2', '-w', '1',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Job \S+ succeeded in [\d.]+s\.\nOutput: out \(2 part files\)\n/);
    const counts = readdirSync(s.path('out'))
      .filter((f) => f.startsWith('part-'))
      .flatMap((f) => readFileSync(s.path('out', f), 'utf8').split('\n').filter(Boolean))
      .sort();
    expect(counts).toEqual(['cat\t1', 'end\t1', 'mat\t1', 'on\t1', 'sat\t1', 'the\t3']);
    // The CLI process ran from the bundle only (its lazy chunks included), the SDK inside it.
    // esbuild is the one package loaded from node_modules, on purpose: it bundles the job's
    // TypeScript module (external to the CLI bundle: a native binary found from its package).
    expect(own.filter((f) => f !== 'bin/mapreduce.js' && !f.startsWith('dist/bundle/') && !f.startsWith('node_modules/esbuild/'))).toEqual([]);
    expect(urls.filter((u) => u.includes('/node_modules/@aws-sdk/'))).toEqual([]);
    const logDir = /Worker logs kept in (\S+)/.exec(r.stderr)?.[1];
    expect(logDir, r.stderr).toBeDefined();
    const records = parseLogRecords(readFileSync(path.join(logDir!, 'worker-0.log'), 'utf8'));
    rmSync(logDir!, { recursive: true, force: true });
    expect(records.filter((x) => x.message === LOG_EVENTS.taskClaimed).length).toBeGreaterThan(0);
    expect(records.filter((x) => x.message === LOG_EVENTS.leaseKeeperUnavailable)).toEqual([]);
  });
});
