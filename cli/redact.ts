/**
 * What the CLI prints of a job record: the manifest's `env` may hold secrets (it is
 * documented as never logged), so its values are replaced by REDACTED; the keys stay,
 * to show what the job sets.
 */
import type { JobRecord } from '../core/model.js';

/** The value printed for every manifest `env` variable. */
export const REDACTED = '***';

/** `job` with its manifest's `env` values redacted (the record itself is not changed). */
export function redactJob<T extends JobRecord>(job: T): T {
  const env = job.manifest?.env;
  if (!job.manifest || !env) return job;
  const shown = Object.fromEntries(Object.keys(env).map((k) => [k, REDACTED]));
  return { ...job, manifest: { ...job.manifest, env: shown } };
}
