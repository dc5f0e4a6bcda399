/** Small formatting and argument helpers shared by the commands (no AWS imports: keeps `--help` fast). */
import { UsageError } from '../core/errors.js';
import { isValidJobId, type JobRecord } from '../core/model.js';

/** A job id given on the command line: refuse anything that could address other keys. */
export function checkJobIdArg(jobId: string): string {
  if (!isValidJobId(jobId)) {
    throw new UsageError(
      `"${jobId}" is not a valid job id (letters, digits, ".", "_", "-"; no ".."). List jobs with \`mapreduce jobs\`.`,
    );
  }
  return jobId;
}

/** Counters as aligned `group.name  value` lines, framework counters (`mapreduce.*`) first. */
export function formatCounters(counters: Readonly<Record<string, number>>): string {
  const entries = Object.entries(counters).sort(([a], [b]) => {
    const fa = a.startsWith('mapreduce.') ? 0 : 1;
    const fb = b.startsWith('mapreduce.') ? 0 : 1;
    return fa - fb || (a < b ? -1 : a > b ? 1 : 0);
  });
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n');
}

/** Seconds from creation to the end (or now, for a job still running), one decimal. */
export function durationSeconds(job: JobRecord): number | undefined {
  if (!job.createdAt) return undefined;
  const end = job.finishedAt ? Date.parse(job.finishedAt) : Date.now();
  return Math.round((end - Date.parse(job.createdAt)) / 100) / 10;
}
