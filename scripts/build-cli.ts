/**
 * `npm run build`'s second step: the CLI bundled with esbuild into `dist/bundle/` (ESM, Node 20),
 * which bin/mapreduce.js loads. A process start then reads a few dozen files instead of
 * resolving, lexing and compiling hundreds of modules (many of them the AWS SDK's): a third of
 * the CPU of a `run` up to its submission, 60 % of a worker's start (docs/performance.md,
 * session 14, "The CLI bundled with esbuild").
 *
 * Code splitting keeps the CLI's lazy imports lazy: what only one command needs (the worker,
 * the report's Vega-Lite, a local stack) stays in its own chunk, loaded when that command runs.
 * All files sit in one folder, so a path the code resolves against its own module
 * (`new URL('./lease-keeper-thread.js', import.meta.url)`, worker/lease-keeper.ts) finds the
 * bundled thread entry next to it; the package root is found by walking up to package.json
 * (cli/main.ts, local/stack.ts), which holds from `dist/bundle/` as from `dist/cli/`.
 * `dist/cli/main.js` (tsc) stays importable: tests and the client library use the unbundled tree.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** Where bin/mapreduce.js finds the bundle: `main.js` exports runMain, as dist/cli/main.js does. */
export const CLI_BUNDLE_DIR = path.join('dist', 'bundle');

/** Lets the ESM chunks run the CommonJS dependencies' `require` calls of Node's built-in modules. */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __mrCreateRequire } from 'node:module'; const require = __mrCreateRequire(import.meta.url);";

/** Bundle the CLI from the sources under `root` into `<root>/dist/bundle/`. */
export async function buildCliBundle(root: string): Promise<void> {
  const outdir = path.join(root, CLI_BUNDLE_DIR);
  rmSync(outdir, { recursive: true, force: true });
  await build({
    absWorkingDir: root,
    entryPoints: {
      main: 'cli/main.ts',
      // Started by the worker as `new URL('./lease-keeper-thread.js', import.meta.url)`.
      'lease-keeper-thread': 'worker/lease-keeper-thread.ts',
    },
    outdir,
    bundle: true,
    splitting: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // The SDK's ES module builds: no CommonJS wrappers, and fewer `require` calls at start.
    mainFields: ['module', 'main'],
    // esbuild ships a native binary it finds from its own package: loaded from node_modules
    // when a module step is bundled (cli/bundle.ts).
    external: ['esbuild'],
    banner: { js: ESM_REQUIRE_BANNER },
    logLevel: 'warning',
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  await buildCliBundle(root);
}
