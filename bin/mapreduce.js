#!/usr/bin/env node
// Tiny entry: all behaviour lives in cli/main.ts so tests can call runMain(argv) directly.
// It runs from dist/bundle/ (scripts/build-cli.ts): a few dozen bundled files to load, not hundreds of modules.
// Node 20 is supported on purpose (the Lambdas run on Node 22+); silence the SDK's upgrade nag.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const argv = process.argv.slice(2);
if (argv.length === 2 && argv[0] === 'worker' && argv[1] === '--supervise') {
  // The ECS container's command: the recycle supervisor stays resident next to the worker,
  // so it skips the CLI's modules (44 MiB RSS instead of 60; worker/supervisor.ts).
  const { superviseWorker } = await import('../dist/worker/supervisor.js');
  process.exitCode = await superviseWorker();
} else {
  // MR_CLI_FROM_MODULES=1 runs the tsc module tree instead (dist/cli/): a test that preloads a
  // decorator into workers patches those modules, which the bundle does not import.
  const entry = process.env.MR_CLI_FROM_MODULES === '1' ? '../dist/cli/main.js' : '../dist/bundle/main.js';
  const { runMain } = await import(entry);
  process.exitCode = await runMain(argv);
}
