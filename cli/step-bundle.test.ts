/**
 * `bundleStepModule` (esbuild loaded with require since session 16): a module and what it
 * imports become one ES module file; a module that does not compile rejects with esbuild's
 * message, which the CLI shows as "does not compile: ...".
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bundleStepModule } from './bundle.js';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function scratch(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'step-bundle-'));
  dirs.push(dir);
  return dir;
}

describe('bundleStepModule', () => {
  it('bundles a TypeScript module and its imports into one ES module', async () => {
    const dir = await scratch();
    await writeFile(path.join(dir, 'words.ts'), 'export const split = (s: string): string[] => s.split(/\\s+/);\n');
    await writeFile(path.join(dir, 'job.ts'), "import { split } from './words.js';\nexport function map(line: string) { return split(line).map((w) => [w, 1]); }\n");
    const out = path.join(dir, 'job.mjs');
    await bundleStepModule(path.join(dir, 'job.ts'), out);
    const mod = (await import(out)) as { map: (line: string) => unknown };
    expect(mod.map('a b')).toEqual([['a', 1], ['b', 1]]);
    expect(await readFile(out, 'utf8')).not.toContain("from './words");
  });

  it("rejects a module that does not compile with esbuild's message", async () => {
    const dir = await scratch();
    await writeFile(path.join(dir, 'bad.ts'), 'export function map(line: string) { return [line, 1];\n');
    await expect(bundleStepModule(path.join(dir, 'bad.ts'), path.join(dir, 'bad.mjs'))).rejects.toThrow(/Build failed with 1 error:[\s\S]*bad.ts:2:0: ERROR: Unexpected end of file/);
  });
});
