#!/usr/bin/env node
// Tiny entry: all behaviour lives in cli/main.ts so tests can call runMain(argv) directly.
// Node 20 is supported on purpose (the Lambdas run on Node 22+); silence the SDK's upgrade nag.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const { runMain } = await import('../dist/cli/main.js');

process.exitCode = await runMain(process.argv.slice(2));
