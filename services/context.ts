/**
 * What the services need, built once from SDK clients and resource names, so that
 * Lambdas, the local stack, workers and tests all wire the same adapters.
 */
import type { Logger } from '@aws-lambda-powertools/logger';
import { BlobStore } from '../aws/blob-store.js';
import type { AwsClients } from '../aws/clients.js';
import { JobStore } from '../aws/job-store.js';
import { JobStatusReads } from '../aws/job-statuses.js';
import { Queue } from '../aws/queue.js';
import { TaskStore } from '../aws/task-store.js';
import { WorkerStore } from '../aws/worker-store.js';
import type { Timings } from '../core/config.js';
import type { ResourceNames } from '../core/resources.js';
import { type InputSource, inputSource } from './input-source.js';
import { noMetrics, type RuntimeMetrics } from './metrics.js';

export interface Services {
  readonly clients: AwsClients;
  readonly names: ResourceNames;
  readonly timings: Timings;
  readonly jobs: JobStore;
  /** Batched status reads of many jobs (the workers' ended-job file check). */
  readonly jobStatuses: JobStatusReads;
  readonly tasks: TaskStore;
  readonly workers: WorkerStore;
  readonly blobs: BlobStore;
  /** The job input: S3, and local files on a local stack (`localFiles`). */
  readonly inputs: InputSource;
  /** True on a local stack: `file://` inputs are accepted and read from this machine. */
  readonly localFiles: boolean;
  readonly taskQueue: Queue;
  /** Where SQS moves task messages received too often without being deleted (read by the checker). */
  readonly taskDeadLetters: Queue;
  readonly submissionQueue: Queue;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error' | 'debug'>;
  readonly metrics: RuntimeMetrics;
  /** Epoch ms; injectable so tests can seed stale state instead of waiting. */
  readonly now: () => number;
}

/** A logger that drops everything (for tests and quiet CLI paths). */
export const silentLog: Services['log'] = {
  info: () => {},
  warn: () => {},
  error: () => {},
  debug: () => {},
};

export function createServices(
  clients: AwsClients,
  names: ResourceNames,
  timings: Timings,
  log: Services['log'] = silentLog,
  now: () => number = Date.now,
  metrics: RuntimeMetrics = noMetrics,
  o: { readonly localFiles?: boolean } = {},
): Services {
  const blobs = new BlobStore(clients);
  const localFiles = o.localFiles ?? false;
  return {
    clients,
    names,
    timings,
    jobs: new JobStore(clients, names.table),
    jobStatuses: new JobStatusReads(clients, names.table),
    tasks: new TaskStore(clients, names.table),
    workers: new WorkerStore(clients, names.table),
    blobs,
    inputs: inputSource(blobs, { localFiles }),
    localFiles,
    taskQueue: new Queue(clients, names.tasksQueue),
    taskDeadLetters: new Queue(clients, names.tasksDlq),
    submissionQueue: new Queue(clients, names.submissionsQueue),
    log,
    now,
    metrics,
  };
}

export const iso = (ms: number): string => new Date(ms).toISOString();

export { forEachLimit } from '../core/concurrency.js';
