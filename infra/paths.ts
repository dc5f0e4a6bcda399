/** Filesystem locations the CDK app needs: the repository root and the Lambda entry files. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Root of the repository (the folder holding package.json, lambdas/ and worker/). */
export const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Entry files of the Lambda handlers, relative to a project root. */
export const LAMBDA_ENTRIES = {
  coordinator: path.join('lambdas', 'coordinator.ts'),
  checker: path.join('lambdas', 'checker.ts'),
} as const;

/** The worker image's Dockerfile, relative to the project root (the build context). */
export const WORKER_DOCKERFILE = path.join('worker', 'Dockerfile');

/**
 * Never part of the worker image's build context. `.dockerignore` says the same for
 * plain `docker build`; CDK merges both when it stages the asset.
 */
export const IMAGE_EXCLUDES: readonly string[] = [
  // Never needed, often large.
  '.git',
  'node_modules',
  '**/node_modules',
  'cdk.out',
  'dist',
  'test-results',
  'bench',
  '.venv',
  '.mapreduce',
  'coverage',
  '*.log',
  '.DS_Store',
  // Not part of the worker build: leaving them out keeps the image hash (and the
  // deploy) unchanged when only tests, docs or infrastructure change.
  'test',
  '**/*.test.ts',
  'docs',
  'infra',
  '*.md',
  '.ci',
  '.github',
  'cdk.json',
  'cdk.context.json',
];
