/**
 * The published package: `npm pack`, unpacked into a fresh project's node_modules the
 * way `npm install <tarball>` lays it out, then both entry points resolve at run time
 * (node) and with types (tsc, strict). The tests have no registry access, so the
 * package's dependencies are linked from this checkout's node_modules instead of
 * being downloaded; everything of serverless-mapreduce itself comes from the tarball.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO } from '../helpers/stack.js';

const run = (cmd: string, args: string[], cwd: string) => {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 170_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
};

const CONSUMER = `
import { cancelJob, type Connection, getJob, type JobResult, type JobSpec, type ProgressEvent, runJob, submitJob, waitForJob, watchJob } from 'serverless-mapreduce';
import { type CombineFn, defineJob, type MapFn, type ReduceFn, type TaskContext } from 'serverless-mapreduce/job';
import type { MapFn as DocumentedMapFn } from 'serverless-mapreduce/worker/module-api';

const map: MapFn = (line, ctx) => {
  for (const w of line.split(' ')) ctx.emit(w, '1');
};
const documented: DocumentedMapFn = map;
const sum: ReduceFn = (key, values, ctx: TaskContext) => ctx.emit(key, String([...values].length));
const combine: CombineFn = sum;
export default defineJob({ map: documented, combine, reduce: (key, values, ctx) => ctx.emit(key, [...values].join(',')) });
// @ts-expect-error values is an Iterable, read once: no array members
export const badReduce = defineJob({ reduce: (key, values, ctx) => ctx.emit(key, values.join(',')) });

// @ts-expect-error a mapper takes a line of text, not a number
export const badMap: MapFn = (line: number) => void line;
// @ts-expect-error emit takes strings
export const badEmit = defineJob({ map: (line, ctx) => ctx.emit(line, 1) });

const deployed: Connection = { stack: 'MapReduce' };
const local: Connection = { endpoint: 'http://127.0.0.1:4566', prefix: 'mapreduce-local' };
const spec: JobSpec = { input: 'data/', output: 's3://bucket/out/', mapper: 'wc.ts', numReducers: 2 };
export async function use(): Promise<string> {
  const s = await submitJob(spec, deployed);
  for await (const e of watchJob(s.jobId, deployed)) {
    const p: ProgressEvent = e;
    if (p.map.done > 0) break;
  }
  const done: JobResult = await waitForJob(s.jobId, deployed, { pollMs: 1000 });
  const cost: number = done.costUsd;
  // @ts-expect-error status is a JobStatus string
  const wrong: number = done.status;
  await cancelJob(s.jobId, local);
  const again = await getJob(s.jobId, local);
  const r = await runJob(spec, local);
  return \`\${done.status} \${cost} \${wrong} \${again?.phase} \${r.jobId}\`;
}
`;

describe('npm pack', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'mr-pack-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('installs into a fresh project where both entry points resolve, at run time and with types', () => {
    const pack = run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', dir], REPO);
    expect(pack.code, pack.out).toBe(0);
    const tarball = path.join(dir, readdirSync(dir).find((f) => f.endsWith('.tgz'))!);
    const proj = path.join(dir, 'consumer');
    const installed = path.join(proj, 'node_modules', 'serverless-mapreduce');
    mkdirSync(installed, { recursive: true });
    const untar = run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], dir);
    expect(untar.code, untar.out).toBe(0);
    const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const dep of [...Object.keys(pkg.dependencies), 'typescript', '@types/node']) {
      const link = path.join(proj, 'node_modules', dep);
      mkdirSync(path.dirname(link), { recursive: true });
      symlinkSync(path.join(REPO, 'node_modules', dep), link, 'dir');
    }
    writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies: { 'serverless-mapreduce': `file:${tarball}` } }));
    writeFileSync(
      path.join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
        include: ['index.ts'],
      }),
    );
    writeFileSync(path.join(proj, 'index.ts'), CONSUMER);

    const tsc = run(process.execPath, [path.join(proj, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', '.'], proj);
    expect(tsc.code, tsc.out).toBe(0);

    const probe = `const c = await import('serverless-mapreduce'); const j = await import('serverless-mapreduce/job');
console.log(JSON.stringify({ client: Object.keys(c).sort(), job: Object.keys(j).sort(), ok: j.defineJob({ map() {} }).map !== undefined }));`;
    const node = run(process.execPath, ['--input-type=module', '-e', probe], proj);
    expect(node.code, node.out).toBe(0);
    const seen = JSON.parse(node.out.trim().split('\n').pop()!) as { client: string[]; job: string[]; ok: boolean };
    expect(seen.client).toEqual(expect.arrayContaining(['cancelJob', 'getJob', 'runJob', 'submitJob', 'waitForJob', 'watchJob', 'defineJob']));
    expect(seen.job).toEqual(['defineJob']);
    expect(seen.ok).toBe(true);
  });
});
