/**
 * The job configuration of `run`/`submit` flags: `-D` pairs, then the flags that are
 * Hadoop keys in disguise (`--partitioner`, `--comparator`, `--recursive`, `-R`).
 * As in Hadoop Streaming, the dedicated flags win over a `-D` of the same key.
 */
import { JobConfKeys } from '../core/jobconf-keys.js';
import { parseJobConfPairs } from '../core/jobconf-args.js';

export interface JobConfFlags {
  readonly jobconf?: readonly string[];
  readonly partitioner?: string;
  readonly comparator?: string;
  readonly recursive?: boolean;
  readonly numReducers?: number;
}

export function jobConfFromFlags(f: JobConfFlags): Record<string, string> {
  const conf = parseJobConfPairs(f.jobconf ?? []);
  if (f.partitioner !== undefined) conf[JobConfKeys.PARTITIONER_CLASS] = f.partitioner;
  if (f.comparator !== undefined) conf[JobConfKeys.COMPARATOR_CLASS] = f.comparator;
  if (f.recursive) conf[JobConfKeys.INPUT_RECURSIVE] = 'true';
  // -R is the manifest's numReducers; a -D of the same key must not override it.
  if (f.numReducers !== undefined && JobConfKeys.REDUCES in conf) conf[JobConfKeys.REDUCES] = String(f.numReducers);
  return conf;
}
