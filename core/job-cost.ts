/**
 * A job's modeled AWS cost, from its own records: worker-seconds from the attempts'
 * start and end times, requests from the attempts' recorded counts (`Service.Operation`),
 * storage from the bytes they wrote, plus the coordinator's and checker's share.
 * Attempts without recorded counts (written before counts were recorded) are charged
 * the data path they must have made, and the result says it is an estimate. Pure.
 */
import { type AttemptView, attemptSeconds } from './attempts.js';
import {
  addMix,
  type CallMix,
  CHECKER_LAMBDA,
  COORDINATOR_LAMBDA,
  emptyMix,
  priceUsage,
  readUnits,
  S3_PUT_CLASS,
  type ServiceCost,
  STORAGE_MONTHS,
  transactWriteUnits,
  type Usage,
  writeUnits,
} from './cost.js';
import type { JobRecord } from './model.js';

/** How the stack places and sizes workers (the CDK defaults of infra/config.ts). */
export interface Placement {
  readonly workerVcpu: number;
  readonly workerGb: number;
  /** With Spot on, this many workers run on demand and the rest on Spot. */
  readonly onDemandWorkers: number;
  readonly useSpot: boolean;
}

export const DEFAULT_PLACEMENT: Placement = { workerVcpu: 1, workerGb: 2, onDemandWorkers: 1, useSpot: true };

/** Item sizes that turn DynamoDB requests into request units. */
export interface ItemSizes {
  readonly jobItemBytes: number;
  readonly taskItemBytes: number;
  readonly numMaps: number;
}

/**
 * Price class of each recorded request. DynamoDB: a GetItem reads the job item (the
 * job read after a commit), a Query reads the job's map output items (reducers; priced as task items), a
 * TransactWriteItems is the commit (task and job item, 2 WRU per KiB of each), other
 * writes touch one task or worker item.
 */
export function requestsToMix(requests: Readonly<Record<string, number>>, sizes: ItemSizes): CallMix {
  const mix = emptyMix();
  for (const [name, n] of Object.entries(requests)) {
    const dot = name.indexOf('.');
    const service = name.slice(0, dot);
    const op = name.slice(dot + 1);
    if (service === 'S3') {
      if (S3_PUT_CLASS.has(op)) mix.s3Put += n;
      else mix.s3Get += n;
    } else if (service === 'SQS') {
      mix.sqs += n;
    } else if (service === 'DynamoDB') {
      if (op === 'GetItem' || op === 'BatchGetItem') mix.ddbReadUnits += n * readUnits(sizes.jobItemBytes);
      else if (op === 'Query' || op === 'Scan') mix.ddbReadUnits += n * readUnits(sizes.numMaps * sizes.taskItemBytes);
      else if (op === 'TransactWriteItems') mix.ddbWriteUnits += n * transactWriteUnits([sizes.taskItemBytes, sizes.jobItemBytes]);
      else mix.ddbWriteUnits += n * writeUnits(sizes.taskItemBytes);
    }
  }
  return mix;
}

/**
 * The requests an attempt without recorded counts must have made: its input read and
 * output write (a map reads its split, a reduce one slice per map), the claim, the
 * message receive and delete, and the commit.
 */
export function assumedRequests(a: Pick<AttemptView, 'kind' | 'outcome'>, numMaps: number): Record<string, number> {
  return {
    'S3.GetObject': a.kind === 'map' ? 1 : numMaps,
    'S3.PutObject': 1,
    'SQS.ReceiveMessage': 1,
    'SQS.DeleteMessage': 1,
    'DynamoDB.UpdateItem': 1,
    ...(a.outcome === 'committed' ? { 'DynamoDB.TransactWriteItems': 1 } : {}),
  };
}

/**
 * What the coordinator does for a job: read the manifest and list the input, write the
 * task records (transactions of up to 100 puts) and the job item a few times, send the
 * map and reduce messages in batches of 10.
 */
export function coordinatorMix(job: Pick<JobRecord, 'numMaps' | 'numReduces'>, sizes: ItemSizes): CallMix {
  const tasks = job.numMaps + job.numReduces;
  return {
    ...emptyMix(),
    s3Get: 2,
    s3Put: 1,
    sqs: Math.ceil(job.numMaps / 10) + Math.ceil(job.numReduces / 10),
    ddbWriteUnits: tasks * transactWriteUnits([sizes.taskItemBytes]) + 3 * writeUnits(sizes.jobItemBytes),
  };
}

export interface JobCost extends ServiceCost {
  readonly usage: Usage;
  readonly attempts: number;
  readonly workers: number;
  /** Attempts whose requests were assumed, not recorded. */
  readonly estimatedAttempts: number;
  readonly wallSeconds: number;
}

/** Bytes of a record as DynamoDB sizes it, roughly: its JSON. */
const itemBytes = (x: unknown): number => Buffer.byteLength(JSON.stringify(x ?? {}));

export function itemSizes(job: JobRecord, taskItems: readonly unknown[]): ItemSizes {
  const taskItemBytes = taskItems.length ? Math.ceil(taskItems.reduce<number>((n, t) => n + itemBytes(t), 0) / taskItems.length) : 512;
  return { jobItemBytes: itemBytes(job), taskItemBytes, numMaps: job.numMaps };
}

/** The job's modeled cost on AWS, by service. */
export function jobCost(
  job: JobRecord,
  attempts: readonly AttemptView[],
  sizes: ItemSizes,
  placement: Placement = DEFAULT_PLACEMENT,
): JobCost {
  let requests = coordinatorMix(job, sizes);
  let estimated = 0;
  let busySeconds = 0;
  let storedBytes = 0;
  for (const a of attempts) {
    busySeconds += attemptSeconds(a);
    storedBytes += a.outputBytes ?? 0;
    if (a.requests) {
      requests = addMix(requests, requestsToMix(a.requests, sizes));
    } else {
      estimated++;
      requests = addMix(requests, requestsToMix(assumedRequests(a, job.numMaps), sizes));
    }
  }
  const workers = new Set(attempts.map((a) => a.worker)).size;
  // Every worker is equally busy on average, so the on-demand share of the worker time
  // is the on-demand share of the workers.
  const onDemandShare = !placement.useSpot || workers === 0 ? 1 : Math.min(workers, placement.onDemandWorkers) / workers;
  const created = Date.parse(job.createdAt);
  const ended = job.finishedAt ? Date.parse(job.finishedAt) : Math.max(created, ...attempts.map((a) => a.endedAt));
  const wallSeconds = Math.max(0, (ended - created) / 1000);
  const checkerMinutes = Math.ceil(wallSeconds / 60) + 1;
  requests = addMix(requests, { ...emptyMix(), ddbReadUnits: checkerMinutes * CHECKER_LAMBDA.readUnitsPerMinute });
  const usage: Usage = {
    onDemandWorkerSeconds: busySeconds * onDemandShare,
    spotWorkerSeconds: busySeconds * (1 - onDemandShare),
    workerVcpu: placement.workerVcpu,
    workerGb: placement.workerGb,
    requests,
    storageGbMonths: (storedBytes / 1e9) * STORAGE_MONTHS,
    lambdaRequests: 1 + checkerMinutes,
    lambdaGbSeconds:
      COORDINATOR_LAMBDA.seconds * COORDINATOR_LAMBDA.gb + checkerMinutes * CHECKER_LAMBDA.seconds * CHECKER_LAMBDA.gb,
  };
  return { ...priceUsage(usage), usage, attempts: attempts.length, workers, estimatedAttempts: estimated, wallSeconds };
}
