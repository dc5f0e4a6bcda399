/**
 * Bundling of a TypeScript/JavaScript step module into one ESM file the worker imports:
 * the CLI ships modules this way, and the tests and the benchmark bundle their modules
 * with the same settings.
 */
import { createRequire } from 'node:module';

/** Bundle `entry` and everything it imports into `outfile` (ESM, Node 20). Throws esbuild's error. */
export async function bundleStepModule(entry: string, outfile: string): Promise<void> {
  // Loaded on use: esbuild is only needed when a module step is given. Required, not imported:
  // esbuild is a CommonJS package, and an ES import of one first scans its source for the
  // names it exports (Node's CJS export lexer), ~25-30 ms of CPU per CLI run (session 16).
  const { build } = createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    outfile,
    logLevel: 'silent',
  });
}
