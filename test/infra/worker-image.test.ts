/**
 * The worker image can run `--mrjob` jobs: its Dockerfile installs python3 and the pinned
 * mrjob (requirements-worker.txt) on the slim base without caches, puts them on the PATH
 * tasks inherit, and the image asset CDK stages holds the requirements file the build reads.
 * No Docker engine here: the image is not built; this checks what the build is given.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, WORKER_DOCKERFILE } from '../../infra/paths.js';
import { type Synthesized, synth } from './synth.js';

/** A Dockerfile's instructions: continuation lines joined, comments dropped, split into stages. */
function stages(dockerfile: string): { name: string; from: string; instructions: string[] }[] {
  const joined = dockerfile.replace(/\\\n/g, ' ');
  const out: { name: string; from: string; instructions: string[] }[] = [];
  for (const raw of joined.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.push({ name: from[2] ?? String(out.length), from: from[1]!, instructions: [] });
    else out.at(-1)?.instructions.push(line.replace(/\s+/g, ' '));
  }
  return out;
}

const dockerfile = readFileSync(path.join(REPO_ROOT, WORKER_DOCKERFILE), 'utf8');
const requirement = (file: string, pkg: string) =>
  new RegExp(`^${pkg}==(\\S+)$`, 'im').exec(readFileSync(path.join(REPO_ROOT, file), 'utf8'))?.[1];

describe('worker image', () => {
  const all = stages(dockerfile);
  const runtime = all.at(-1)!;
  const python = all.find((s) => s.name === 'python');

  it('the runtime stage installs python3 from the slim base, without recommends and apt lists', () => {
    expect(runtime.name).toBe('runtime');
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:\d+-slim$/m);
    const apt = runtime.instructions.find((i) => i.startsWith('RUN apt-get update'));
    expect(apt).toMatch(/apt-get install -y --no-install-recommends python3(\s|$)/);
    expect(apt).toContain('rm -rf /var/lib/apt/lists/*');
  });

  it('mrjob is installed from requirements-worker.txt into a venv without pip caches, copied into the runtime and first on PATH', () => {
    expect(python, 'a "python" build stage').toBeDefined();
    expect(python!.instructions).toContain('COPY requirements-worker.txt /tmp/');
    const install = python!.instructions.find((i) => i.includes('pip install'));
    expect(install).toContain('python3 -m venv /opt/mrjob');
    expect(install).toContain('/opt/mrjob/bin/pip install --no-cache-dir');
    expect(install).toContain('-r /tmp/requirements-worker.txt');
    expect(runtime.instructions).toContain('COPY --from=python /opt/mrjob /opt/mrjob');
    const env = runtime.instructions.filter((i) => i.startsWith('ENV ')).join(' ');
    // Tasks inherit the worker's PATH only (worker/step/executable.ts baseEnv): `python3` must be the venv's.
    expect(env).toMatch(/PATH=\/opt\/mrjob\/bin:\$PATH/);
  });

  it('runs the worker under its recycle supervisor, like the task definition (worker/supervisor.ts)', () => {
    expect(runtime.instructions).toContain('CMD ["node", "bin/mapreduce.js", "worker", "--supervise"]');
  });

  it('pins the mrjob the tests run with: requirements-test.txt includes requirements-worker.txt', () => {
    expect(requirement('requirements-worker.txt', 'mrjob')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(requirement('requirements-worker.txt', 'PyYAML')).toMatch(/^\d+\.\d+\.\d+$/);
    expect(readFileSync(path.join(REPO_ROOT, 'requirements-test.txt'), 'utf8')).toMatch(/^-r requirements-worker\.txt$/m);
    expect(readFileSync(path.join(REPO_ROOT, 'docs/hadoop-streaming.md'), 'utf8')).toContain(
      `mrjob ${requirement('requirements-worker.txt', 'mrjob')}`,
    );
  });
});

describe('worker image asset', () => {
  let s: Synthesized;
  beforeAll(() => {
    s = synth();
  }, 120_000);
  afterAll(() => s?.cleanup());

  it('the staged build context holds the Dockerfile and requirements-worker.txt, not the tests', () => {
    s.app.synth();
    const dirs = readdirSync(s.app.outdir).filter((d) => d.startsWith('asset.') && existsSync(path.join(s.app.outdir, d, WORKER_DOCKERFILE)));
    expect(dirs).toHaveLength(1);
    const context = path.join(s.app.outdir, dirs[0]!);
    expect(readFileSync(path.join(context, WORKER_DOCKERFILE), 'utf8')).toBe(dockerfile);
    expect(readFileSync(path.join(context, 'requirements-worker.txt'), 'utf8')).toBe(
      readFileSync(path.join(REPO_ROOT, 'requirements-worker.txt'), 'utf8'),
    );
    expect(existsSync(path.join(context, 'test'))).toBe(false);
  });
});
