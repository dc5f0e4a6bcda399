/**
 * The AWS price table and how a usage is priced: one home for the benchmark's
 * terabyte model (scripts/bench/cost.ts) and a job's own modeled cost
 * (core/job-cost.ts). Pure: no AWS imports. Prices are us-east-1 list prices
 * (see docs/performance.md for their dates); free tiers are ignored.
 */

/** Published us-east-1 list prices (USD). Keep in sync with the table in docs/performance.md. */
export const PRICES = {
  /** Fargate Linux/x86_64, per vCPU-hour and per GB-hour (since the 2019-01-07 price cut). */
  fargateVcpuHour: 0.04048,
  fargateGbHour: 0.004445,
  /**
   * Fargate Spot: AWS lists a live rate per region ("up to 70% off" the on-demand price).
   * The model takes the low end of the 50-70% discounts seen in us-east-1, i.e. Spot
   * costs at most half the on-demand rate.
   */
  fargateSpotDiscount: 0.5,
  /** S3 Standard requests: PUT, COPY, POST, LIST per 1,000; GET, SELECT and others per 1,000. */
  s3PutPer1000: 0.005,
  s3GetPer1000: 0.0004,
  /** S3 Standard storage, first 50 TB, per GB-month. */
  s3GbMonth: 0.023,
  /** SQS standard queue, per million requests (after the first million each month). */
  sqsPerMillion: 0.4,
  /** DynamoDB on-demand, per million write / read request units (since 2024-11-01). */
  ddbWritePerMillion: 0.625,
  ddbReadPerMillion: 0.125,
  /** Lambda x86, per million requests and per GB-second. */
  lambdaPerMillion: 0.2,
  lambdaGbSecond: 0.0000166667,
} as const;

/** Requests, grouped by how they are priced. */
export interface CallMix {
  s3Get: number;
  /** PUT, COPY, POST and LIST class. */
  s3Put: number;
  sqs: number;
  ddbWriteUnits: number;
  ddbReadUnits: number;
}

export const emptyMix = (): CallMix => ({ s3Get: 0, s3Put: 0, sqs: 0, ddbWriteUnits: 0, ddbReadUnits: 0 });

/** S3 operations billed at the PUT/COPY/POST/LIST rate; every other S3 request is billed as a GET. */
export const S3_PUT_CLASS: ReadonlySet<string> = new Set([
  'PutObject',
  'CopyObject',
  'ListObjectsV2',
  'ListObjects',
  'CreateMultipartUpload',
  'UploadPart',
  'CompleteMultipartUpload',
]);

export function addMix(a: CallMix, b: CallMix): CallMix {
  return {
    s3Get: a.s3Get + b.s3Get,
    s3Put: a.s3Put + b.s3Put,
    sqs: a.sqs + b.sqs,
    ddbWriteUnits: a.ddbWriteUnits + b.ddbWriteUnits,
    ddbReadUnits: a.ddbReadUnits + b.ddbReadUnits,
  };
}

export function scaleMix(m: CallMix, k: number): CallMix {
  return {
    s3Get: m.s3Get * k,
    s3Put: m.s3Put * k,
    sqs: m.sqs * k,
    ddbWriteUnits: m.ddbWriteUnits * k,
    ddbReadUnits: m.ddbReadUnits * k,
  };
}

/** DynamoDB write units of one item write: 1 WRU per started KiB. */
export const writeUnits = (itemBytes: number): number => Math.max(1, Math.ceil(itemBytes / 1024));
/** DynamoDB read units of one strongly consistent read: 1 RRU per started 4 KiB. */
export const readUnits = (itemBytes: number): number => Math.max(1, Math.ceil(itemBytes / 4096));
/** A transactional write costs twice the units of the same writes outside a transaction. */
export const transactWriteUnits = (itemBytes: readonly number[]): number =>
  2 * itemBytes.reduce((n, b) => n + writeUnits(b), 0);

export function mixCost(m: CallMix): number {
  return (
    (m.s3Get * PRICES.s3GetPer1000) / 1000 +
    (m.s3Put * PRICES.s3PutPer1000) / 1000 +
    (m.sqs * PRICES.sqsPerMillion) / 1e6 +
    (m.ddbWriteUnits * PRICES.ddbWritePerMillion) / 1e6 +
    (m.ddbReadUnits * PRICES.ddbReadPerMillion) / 1e6
  );
}

/** USD per second of one Fargate task of this size, on demand. */
export function fargateUsdPerSecond(vcpu: number, gb: number): number {
  return (vcpu * PRICES.fargateVcpuHour + gb * PRICES.fargateGbHour) / 3600;
}

/**
 * The Lambdas, as the stack deploys them: the coordinator plans a job in one invocation
 * (up to 30 s at 512 MB); the checker runs every minute while jobs are active, sweeping
 * for up to 55 s at 256 MB and reading about 20 RRU of the active index a minute.
 */
export const COORDINATOR_LAMBDA = { seconds: 30, gb: 0.5 } as const;
export const CHECKER_LAMBDA = { seconds: 55, gb: 0.25, readUnitsPerMinute: 20 } as const;

/**
 * Stored bytes kept a day: a job's output in the models, and the intermediate objects of a
 * job that did not succeed (its tmp/ prefix expires after a day, by lifecycle rule).
 */
export const STORAGE_MONTHS = 1 / 30;

/** Seconds in the month S3 bills storage by (30 days, as STORAGE_MONTHS). */
export const SECONDS_PER_MONTH = 30 * 24 * 3600;

/**
 * Months a succeeded job's intermediate objects are stored: at most the job's wall time,
 * since the worker that finishes it deletes tmp/<job>/ (services/tmp-cleanup.ts).
 */
export function tmpStorageMonths(jobWallSeconds: number): number {
  return jobWallSeconds / SECONDS_PER_MONTH;
}

/** Everything a job used that AWS bills, in billing units. */
export interface Usage {
  readonly onDemandWorkerSeconds: number;
  readonly spotWorkerSeconds: number;
  readonly workerVcpu: number;
  readonly workerGb: number;
  readonly requests: CallMix;
  readonly storageGbMonths: number;
  readonly lambdaRequests: number;
  readonly lambdaGbSeconds: number;
}

/** The services of a cost breakdown, in display order. */
export const COST_SERVICES = [
  'fargate_on_demand',
  'fargate_spot',
  's3_requests',
  's3_storage',
  'sqs',
  'dynamodb',
  'lambda',
] as const;
export type CostService = (typeof COST_SERVICES)[number];

export interface ServiceCost {
  readonly usd: Readonly<Record<CostService, number>>;
  readonly totalUsd: number;
}

/** Price a usage with PRICES, by service. */
export function priceUsage(u: Usage): ServiceCost {
  const perSecond = fargateUsdPerSecond(u.workerVcpu, u.workerGb);
  const usd: Record<CostService, number> = {
    fargate_on_demand: u.onDemandWorkerSeconds * perSecond,
    fargate_spot: u.spotWorkerSeconds * perSecond * (1 - PRICES.fargateSpotDiscount),
    s3_requests: mixCost({ ...emptyMix(), s3Get: u.requests.s3Get, s3Put: u.requests.s3Put }),
    s3_storage: u.storageGbMonths * PRICES.s3GbMonth,
    sqs: mixCost({ ...emptyMix(), sqs: u.requests.sqs }),
    dynamodb: mixCost({ ...emptyMix(), ddbWriteUnits: u.requests.ddbWriteUnits, ddbReadUnits: u.requests.ddbReadUnits }),
    lambda: u.lambdaRequests * (PRICES.lambdaPerMillion / 1e6) + u.lambdaGbSeconds * PRICES.lambdaGbSecond,
  };
  return { usd, totalUsd: COST_SERVICES.reduce((n, s) => n + usd[s], 0) };
}

/** `$0.0031`: two significant digits below a cent, cents above. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (usd >= 0.01) return `$${usd.toFixed(2)}`;
  return `$${usd.toPrecision(2)}`;
}

/** The line `status` and `run` end with. */
export const costLine = (usd: number): string => `≈ ${formatUsd(usd)} on AWS`;
