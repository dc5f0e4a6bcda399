// How a manifest's validation issues read to a user: field path, what was expected, the value got.
import type { z } from 'zod';

/** The reason given when a manifest has neither a mapper nor steps. */
export const MAPPER_REQUIRED = 'is required (or "steps" for a multi-step job)';

/**
 * A bad value, quoted for the reason stored on the job record: cut short (a 200 KB
 * name must not make a 200 KB reason), and never an `env` value (it may be a secret).
 */
function shown(path: readonly PropertyKey[], got: unknown): string {
  if (path[0] === 'env') return 'a hidden value';
  const text = JSON.stringify(got) ?? String(got);
  return text.length > 80 ? `${text.slice(0, 60)}… (${text.length} characters)` : text;
}

/** One schema issue as a line of the reason stored on the job record: the field path, what was wrong, the bad value (quoted safely). */
export function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path.length > 0 ? issue.path.join('.') : '(manifest)';
  if (issue.code === 'unrecognized_keys') {
    return `${path === '(manifest)' ? '' : `${path}: `}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
      .map((k) => `"${k}"`)
      .join(
        ', ',
      )} (allowed: ${
      path === '(manifest)'
        ? 'input, output, mapper, reducer, combiner, steps, files, numReducers, splitSize, numMappers, overwrite, maxAttempts, taskTimeoutSeconds, sortFactor, env, jobconf, speculative, name'
        : /^steps\.\d+$/.test(path)
          ? 'mapper, reducer, combiner, numReducers, jobconf'
          : 'module'
    })`;
  }
  if (issue.code === 'invalid_type') {
    const got = valueAt(raw, issue.path);
    if (got === undefined) return `${path}: is required`;
    if (issue.expected === 'int') return `${path}: must be a whole number (got ${shown(issue.path, got)})`;
    return `${path}: expected ${issue.expected}, got ${shown(issue.path, got)}`;
  }
  if (issue.code === 'invalid_union') {
    const got = valueAt(raw, issue.path);
    if (got === undefined) return `${path}: is required`;
    const inner = issue.errors.flat()[0];
    if (/(^|\.)(mapper|reducer|combiner)$/.test(path)) {
      return `${path}: expected a command line string or {"module": "file.mjs"}, got ${shown(issue.path, got)}`;
    }
    if (path === 'input' && typeof got !== 'string' && !Array.isArray(got)) {
      return `input: expected an s3:// URI or a list of s3:// URIs, got ${shown(issue.path, got)}`;
    }
    return `${path}: ${inner ? inner.message : 'invalid value'} (got ${shown(issue.path, got)})`;
  }
  const got = valueAt(raw, issue.path);
  return `${path}: ${issue.message}${got !== undefined && typeof got !== 'object' ? ` (got ${shown(issue.path, got)})` : ''}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}
