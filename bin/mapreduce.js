#!/usr/bin/env node
// Tiny entry: all behaviour lives in cli/main.ts so tests can call runMain(argv) directly.
import { runMain } from '../dist/cli/main.js';

process.exitCode = await runMain(process.argv.slice(2));
