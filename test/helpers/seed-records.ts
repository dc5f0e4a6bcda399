/** Job and task records written straight to the table, as the coordinator would write them. */
import { validateManifest } from '../../core/manifest.js';
import type { JobRecord, TaskKind, TaskRecord } from '../../core/model.js';

/** A RUNNING job record in MAP phase, as the coordinator leaves it. */
export function runningJob(jobId: string, numMaps: number, numReduces: number, now: number): JobRecord {
  return {
    jobId,
    status: 'RUNNING',
    phase: 'MAP',
    // Validated like a stored manifest: normalised to job-wide fields plus its one step.
    manifest: validateManifest({
      input: 's3://nowhere/in/',
      output: 's3://nowhere/out/',
      mapper: 'cat',
      ...(numReduces > 0 ? { reducer: 'cat' } : {}),
      numReducers: numReduces,
    }),
    numMaps,
    numReduces,
    mapsCommitted: 0,
    reducesCommitted: 0,
    inputBytes: 0,
    counters: {},
    createdAt: new Date(now).toISOString(),
    updatedAt: new Date(now).toISOString(),
  };
}

/** PENDING task records of a job, as the coordinator writes them. */
export function pendingTasks(
  jobId: string,
  kind: TaskKind,
  n: number,
  extra: Partial<TaskRecord> = {},
): TaskRecord[] {
  return Array.from({ length: n }, (_, index) => ({
    jobId,
    taskId: `${kind === 'map' ? 'm' : 'r'}-${String(index).padStart(5, '0')}`,
    kind,
    index,
    status: 'PENDING' as const,
    attempt: 0,
    failures: 0,
    stalls: 0,
    ...extra,
  }));
}
