/**
 * Cost model for word count on AWS (us-east-1): Fargate workers, S3, SQS, DynamoDB
 * on-demand and the two Lambdas. Inputs are measured by the benchmark (per-core
 * throughput, control-plane calls per task and per heartbeat, intermediate bytes);
 * prices are the published list prices below (see docs/performance.md for their dates).
 * Workers are placed like the stack's defaults (infra/config.ts): `onDemandWorkers` on
 * on-demand Fargate, the rest on Fargate Spot. Free tiers are ignored.
 */
import {
  addMix,
  type CallMix,
  CHECKER_LAMBDA,
  COORDINATOR_LAMBDA,
  emptyMix,
  fargateUsdPerSecond,
  mixCost,
  PRICES,
  readUnits,
  S3_PUT_CLASS,
  scaleMix as scale,
  STORAGE_MONTHS,
  tmpStorageMonths,
  transactWriteUnits,
  writeUnits,
} from '../../core/cost.js';
import type { CallLine } from './calls.js';
import { classify } from './calls.js';

export { type CallMix, emptyMix, mixCost, PRICES };

/**
 * Add one logged control-plane call to a mix. DynamoDB units: a write costs 1 WRU per
 * KiB of the item (the job item is `jobItemBytes`, task and worker items under 1 KiB),
 * doubled in a transaction; a read 1 RRU per 4 KiB (strongly consistent, the default
 * here); a Query of a job's tasks `queryReadUnits`; a BatchGetItem of job items half a
 * unit per item and 4 KiB (eventually consistent).
 */
export function addCall(mix: CallMix, c: CallLine, sizes: { jobItemBytes: number; queryReadUnits: number }): void {
  if (c.service === 's3') {
    if (S3_PUT_CLASS.has(c.operation)) mix.s3Put++;
    else mix.s3Get++;
    return;
  }
  if (c.service === 'sqs') {
    mix.sqs++;
    return;
  }
  const kinds = (c.key ?? '').split('+').filter(Boolean);
  const itemBytes = (k: string) => (k === 'JOB' ? sizes.jobItemBytes : 1024);
  switch (c.operation) {
    case 'GetItem':
      mix.ddbReadUnits += readUnits(itemBytes(kinds[0] ?? ''));
      break;
    case 'Query':
      mix.ddbReadUnits += sizes.queryReadUnits;
      break;
    case 'BatchGetItem':
      // The workers' ended-job check (aws/job-statuses.ts): job items, eventually consistent
      // (half a unit per 4 KiB), at least one item when the log names none.
      mix.ddbReadUnits += (Math.max(1, kinds.length) * readUnits(sizes.jobItemBytes)) / 2;
      break;
    case 'TransactWriteItems':
      mix.ddbWriteUnits += transactWriteUnits(kinds.map(itemBytes));
      break;
    case 'BatchWriteItem':
      mix.ddbWriteUnits += 25;
      break;
    default:
      mix.ddbWriteUnits += writeUnits(itemBytes(kinds[0] ?? ''));
  }
}

/** What the benchmark measured, per task and per worker-second. */
export interface MeasuredCalls {
  /** Control-plane calls made for a map / reduce task, heartbeats excluded, per task. */
  perMapTask: CallMix;
  perReduceTask: CallMix;
  /** Heartbeat calls per worker-second while a task runs. */
  heartbeatPerWorkerSecond: CallMix;
  /** Idle calls (long polls, idle heartbeats) per worker-second. */
  idlePerWorkerSecond: CallMix;
}

/** Sum the job's control-plane calls into per-task and per-worker-second mixes. */
export function measureCalls(
  lines: readonly CallLine[],
  job: { jobId: string; mapTasks: number; reduceTasks: number; window: readonly [number, number]; workers: number },
  sizes: { jobItemBytes: number; queryReadUnits: number },
): MeasuredCalls {
  const map = emptyMix();
  const reduce = emptyMix();
  const hb = emptyMix();
  const idle = emptyMix();
  for (const c of lines) {
    const forJob = c.jobId === job.jobId;
    const idleInWindow = c.jobId === undefined && c.ts >= job.window[0] && c.ts <= job.window[1];
    if ((!forJob && !idleInWindow) || classify(c) !== 'control') continue;
    if (!forJob) addCall(idle, c, sizes);
    else if (c.heartbeat) addCall(hb, c, sizes);
    else if (c.taskId?.startsWith('m-')) addCall(map, c, sizes);
    else if (c.taskId?.startsWith('r-')) addCall(reduce, c, sizes);
    else addCall(idle, c, sizes);
  }
  const workerSeconds = (job.workers * (job.window[1] - job.window[0])) / 1000;
  return {
    perMapTask: scale(map, 1 / Math.max(1, job.mapTasks)),
    perReduceTask: scale(reduce, 1 / Math.max(1, job.reduceTasks)),
    // Heartbeats only beat for a running task; most of the window is task time on a busy stack.
    heartbeatPerWorkerSecond: scale(hb, 1 / Math.max(1e-9, workerSeconds)),
    idlePerWorkerSecond: scale(idle, 1 / Math.max(1e-9, workerSeconds)),
  };
}

export interface CostModelInput {
  /** Input bytes one worker vCPU processes per second of wall time (measured). */
  bytesPerCoreSecond: number;
  calls: MeasuredCalls;
  /** Intermediate (map output object) bytes per input byte (measured, after the combiner). */
  shuffleRatio: number;
  /** Part-file bytes per input byte (measured). */
  outputRatio: number;
  /** Size of one task item in DynamoDB (for the reducers' Query of M map tasks). */
  taskItemBytes: number;
  terabytes?: number;
  splitBytes?: number;
  numReducers?: number;
  workers?: number;
  /** Fargate worker size (the CDK default: 1 vCPU, 2 GB). */
  workerVcpu?: number;
  workerGb?: number;
  /** Workers on on-demand Fargate; the rest run on Spot (the CDK defaults: 1, Spot on). */
  onDemandWorkers?: number;
  useSpot?: boolean;
  /**
   * How stored data is charged. `'output-day'`: the output a day (the user keeps it) and the
   * input not at all (the user stores it anyway). `'run'`: input and output for the job's
   * wall time only, as the CloudSort benchmark's cost counts them.
   * @default 'output-day'
   */
  storage?: 'output-day' | 'run';
}

export interface CostBreakdown {
  readonly assumptions: Record<string, number | string>;
  readonly usd: Record<string, number>;
  readonly totalUsd: number;
}

/** USD to word-count `terabytes` (10^12 bytes each) of text on AWS. */
export function costModel(i: CostModelInput): CostBreakdown {
  const bytes = (i.terabytes ?? 1) * 1e12;
  const split = i.splitBytes ?? 256 * 1024 * 1024;
  const R = i.numReducers ?? 8;
  const W = i.workers ?? 32;
  const vcpu = i.workerVcpu ?? 1;
  const gb = i.workerGb ?? 2;
  const M = Math.ceil(bytes / split);
  const workerSeconds = bytes / (i.bytesPerCoreSecond * vcpu);
  const wallSeconds = workerSeconds / W;
  // Every worker is busy for the same share of the job, so the Spot share of the worker
  // time is the Spot share of the workers.
  const onDemand = i.useSpot === false ? W : Math.min(W, i.onDemandWorkers ?? 1);
  const spotShare = (W - onDemand) / W;
  const rate = 1 - spotShare * PRICES.fargateSpotDiscount;
  const fargate = workerSeconds * fargateUsdPerSecond(vcpu, gb) * rate;

  // Data path: one ranged GET per split (a second one only when the last line runs past it),
  // one PUT per map attempt, one ranged GET per (map, reducer), one PUT per reduce attempt;
  // at the end one LIST (billed as a PUT) per 1,000 tmp/ objects to delete them (DELETEs are free).
  const data: CallMix = { ...emptyMix(), s3Get: M + M * R, s3Put: M + R + Math.ceil((M + R) / 1000) };
  // Control plane, as measured per task and per worker-second. The reducers' Query reads
  // all M task items, so its read units grow with M.
  const queryUnits = Math.ceil((M * i.taskItemBytes) / 4096);
  const control = [
    scale(i.calls.perMapTask, M),
    scale(i.calls.perReduceTask, R),
    { ...emptyMix(), ddbReadUnits: R * queryUnits },
    scale(i.calls.heartbeatPerWorkerSecond, workerSeconds),
    scale(i.calls.idlePerWorkerSecond, W * 60), // a minute of idle polling per worker while scaling in
  ].reduce(addMix, emptyMix());
  // Coordinator: task records (transactions of up to 100 puts: 2 WRU per item) and map messages (batches of 10).
  const coordinator: CallMix = {
    ...emptyMix(),
    ddbWriteUnits: (M + R) * transactWriteUnits([i.taskItemBytes]) + 10,
    sqs: Math.ceil(M / 10) + 10,
    s3Put: 5,
    s3Get: 5,
  };
  // Checker: invoked every minute, sweeping for up to 55 s at 256 MB; each 3 s sweep reads the
  // active index (about one 4 KiB page while a job runs).
  const checkerMinutes = Math.ceil(wallSeconds / 60) + 1;
  const lambdaCost = (l: { seconds: number; gb: number }) => PRICES.lambdaPerMillion / 1e6 + l.seconds * l.gb * PRICES.lambdaGbSecond;
  const checkerLambda = checkerMinutes * lambdaCost(CHECKER_LAMBDA);
  const checkerReads: CallMix = { ...emptyMix(), ddbReadUnits: checkerMinutes * CHECKER_LAMBDA.readUnitsPerMinute };
  const coordinatorLambda = lambdaCost(COORDINATOR_LAMBDA);
  // The shuffle lives under tmp/ until the job succeeds and its finisher deletes it: at most
  // the job's wall time. The output is charged a day (the user keeps it; a day is the
  // convention here), or with `storage: 'run'` the input and output for the wall time.
  const runMonths = tmpStorageMonths(wallSeconds);
  const storedGbMonths =
    i.storage === 'run' ? ((bytes * (1 + i.outputRatio)) / 1e9) * runMonths : ((bytes * i.outputRatio) / 1e9) * STORAGE_MONTHS;
  const storageGbMonths = ((bytes * i.shuffleRatio) / 1e9) * runMonths + storedGbMonths;
  const usd = {
    fargate,
    s3_data_requests: mixCost(data),
    s3_control_requests: mixCost({ ...emptyMix(), s3Get: control.s3Get + coordinator.s3Get, s3Put: control.s3Put + coordinator.s3Put }),
    s3_storage: storageGbMonths * PRICES.s3GbMonth,
    sqs: mixCost({ ...emptyMix(), sqs: control.sqs + coordinator.sqs }),
    dynamodb: mixCost({
      ...emptyMix(),
      ddbWriteUnits: control.ddbWriteUnits + coordinator.ddbWriteUnits,
      ddbReadUnits: control.ddbReadUnits + checkerReads.ddbReadUnits,
    }),
    lambda: checkerLambda + coordinatorLambda,
  };
  const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
  const totalUsd = round6(Object.values(usd).reduce((a, b) => a + b, 0));
  return {
    assumptions: {
      terabytes: i.terabytes ?? 1,
      split_bytes: split,
      map_tasks: M,
      reduce_tasks: R,
      workers: W,
      worker_vcpu: vcpu,
      worker_gb: gb,
      on_demand_workers: onDemand,
      spot_workers: W - onDemand,
      bytes_per_core_second: Math.round(i.bytesPerCoreSecond),
      storage: i.storage ?? 'output-day',
      worker_hours: Math.round((workerSeconds / 3600) * 100) / 100,
      wall_minutes: Math.round((wallSeconds / 60) * 10) / 10,
    },
    usd: Object.fromEntries(Object.entries(usd).map(([k, v]) => [k, round6(v)])),
    totalUsd,
  };
}

/** The 2022 CloudSort record (Exoshuffle on AWS): USD per TB sorted. */
export const CLOUDSORT_RECORD_USD_PER_TB = 0.97;

/**
 * USD per TB sorted by the TeraSort job (identity map and reduce, total order): the same
 * model as word count, fed with the sort's measurements. Every input byte is shuffled
 * (shuffleRatio ≈ 1) and written out (outputRatio 1). Sorting needs few, big tasks to keep
 * the M × R shuffle GETs cheap: 1 GiB splits and 128 reducers (932 × 128 ranged GETs per TB).
 *
 * Storage is counted as the record it is compared with counts it: input and output for the
 * run's wall time (`storage: 'run'`). The record's own figures require it: 40 i4i.4xlarge
 * for 5,378 s cost ~$82 on demand, of its $97 total, while 200 TB kept even a day would add
 * ~$150 at $0.023 per GB-month.
 */
export function teraSortCostPerTb(m: {
  bytesPerCoreSecond: number;
  calls: MeasuredCalls;
  shuffleRatio: number;
  taskItemBytes: number;
}): CostBreakdown & { readonly cloudsort_record_usd: number } {
  const c = costModel({
    bytesPerCoreSecond: m.bytesPerCoreSecond,
    calls: m.calls,
    shuffleRatio: m.shuffleRatio,
    outputRatio: 1,
    taskItemBytes: m.taskItemBytes,
    splitBytes: 1024 * 1024 * 1024,
    numReducers: 128,
    workers: 32,
    storage: 'run',
  });
  return { ...c, cloudsort_record_usd: CLOUDSORT_RECORD_USD_PER_TB };
}
