import { z } from 'zod';
import { ManifestError } from './errors.js';
import { parseS3Uri } from './s3uri.js';

export const MIB = 1024 * 1024;
export const DEFAULT_SPLIT_SIZE = 64 * MIB;

/**
 * How a mapper, reducer or combiner runs:
 * - a string is a Hadoop-Streaming command line, split like argv and spawned
 *   without a shell (its first word is a shipped file or a program on PATH);
 * - `{ module }` names a shipped JavaScript module (the CLI bundles .ts files)
 *   whose `map`, `reduce` or `combine` export runs in-process.
 */
const StepSchema = z.union([
  z.string().trim().min(1, 'must be a non-empty command line'),
  z.strictObject({ module: z.string().min(1, 'must name a shipped .mjs/.js file') }),
]);

const S3UriString = z.string().superRefine((value, ctx) => {
  try {
    parseS3Uri(value);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: (err as Error).message });
  }
});

export const ManifestSchema = z
  .strictObject({
    name: z.string().max(200).optional(),
    input: z.union([S3UriString, z.array(S3UriString).min(1, 'must list at least one object')]),
    output: S3UriString,
    mapper: StepSchema,
    reducer: StepSchema.optional(),
    combiner: StepSchema.optional(),
    /** s3:// URIs of files copied into every task's working directory (like Hadoop's -file). */
    files: z.array(S3UriString).default([]),
    numReducers: z.number().int('must be a whole number').min(1, 'must be at least 1').max(10_000).default(1),
    splitSize: z.number().int('must be a whole number').min(1, 'must be at least 1 byte').optional(),
    numMappers: z.number().int('must be a whole number').min(1, 'must be at least 1').max(100_000).optional(),
    overwrite: z.boolean().default(false),
    maxAttempts: z.number().int().min(1).max(20).optional(),
    taskTimeoutSeconds: z.number().positive().optional(),
    /** Extra environment for executables. Never logged. */
    env: z.record(z.string(), z.string()).default({}),
    /** Speculative backup attempts (Hadoop's mapreduce.{map,reduce}.speculative): on unless false. */
    speculative: z.union([z.boolean(), z.strictObject({ map: z.boolean().optional(), reduce: z.boolean().optional() })]).optional(),
  })
  .superRefine((m, ctx) => {
    if (m.splitSize !== undefined && m.numMappers !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['numMappers'], message: 'give splitSize or numMappers, not both' });
    }
    if (m.combiner !== undefined && m.reducer === undefined) {
      ctx.addIssue({ code: 'custom', path: ['combiner'], message: 'a combiner needs a reducer' });
    }
  });

/** A validated manifest with defaults applied. */
export type Manifest = z.output<typeof ManifestSchema>;
export type ManifestInput = z.input<typeof ManifestSchema>;
export type Step = z.output<typeof StepSchema>;

function describeIssue(issue: z.core.$ZodIssue, raw: unknown): string {
  const path = issue.path.length > 0 ? issue.path.join('.') : '(manifest)';
  if (issue.code === 'unrecognized_keys') {
    return `${path === '(manifest)' ? '' : `${path}: `}unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys
      .map((k) => `"${k}"`)
      .join(
        ', ',
      )} (allowed: ${
      path === '(manifest)'
        ? 'input, output, mapper, reducer, combiner, files, numReducers, splitSize, numMappers, overwrite, maxAttempts, taskTimeoutSeconds, env, speculative, name'
        : 'module'
    })`;
  }
  if (issue.code === 'invalid_type') {
    const got = valueAt(raw, issue.path);
    if (got === undefined) return `${path}: is required`;
    if (issue.expected === 'int') return `${path}: must be a whole number (got ${JSON.stringify(got)})`;
    return `${path}: expected ${issue.expected}, got ${JSON.stringify(got)}`;
  }
  if (issue.code === 'invalid_union') {
    const got = valueAt(raw, issue.path);
    if (got === undefined) return `${path}: is required`;
    const inner = issue.errors.flat()[0];
    if (path === 'mapper' || path === 'reducer' || path === 'combiner') {
      return `${path}: expected a command line string or {"module": "file.mjs"}, got ${JSON.stringify(got)}`;
    }
    if (path === 'input' && typeof got !== 'string' && !Array.isArray(got)) {
      return `input: expected an s3:// URI or a list of s3:// URIs, got ${JSON.stringify(got)}`;
    }
    return `${path}: ${inner ? inner.message : 'invalid value'} (got ${JSON.stringify(got)})`;
  }
  const got = valueAt(raw, issue.path);
  return `${path}: ${issue.message}${got !== undefined && typeof got !== 'object' ? ` (got ${JSON.stringify(got)})` : ''}`;
}

function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = raw;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

/** Validate an already-parsed manifest object. Throws ManifestError naming every bad field. */
export function validateManifest(raw: unknown): Manifest {
  const result = ManifestSchema.safeParse(raw);
  if (!result.success) {
    throw new ManifestError(result.error.issues.map((i) => describeIssue(i, raw)));
  }
  return result.data;
}

/** Parse manifest JSON text (bytes from S3 or a file). Throws ManifestError on bad JSON or fields. */
export function parseManifest(text: string): Manifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ManifestError([`not valid JSON: ${(err as Error).message}`], { cause: err });
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ManifestError(['the manifest must be a JSON object']);
  }
  return validateManifest(raw);
}

/** True for a job with no reducer: map output is the final output, unsorted. */
export function isMapOnly(m: Manifest): boolean {
  return m.reducer === undefined;
}
