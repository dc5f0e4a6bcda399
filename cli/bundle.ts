/**
 * Bundling of a TypeScript/JavaScript step module into one ESM file the worker imports:
 * the CLI ships modules this way, and the tests and the benchmark bundle their modules
 * with the same settings.
 */

/** Bundle `entry` and everything it imports into `outfile` (ESM, Node 20). Throws esbuild's error. */
export async function bundleStepModule(entry: string, outfile: string): Promise<void> {
  // Loaded on use: esbuild is only needed when a module step is given.
  const { build } = await import('esbuild');
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
