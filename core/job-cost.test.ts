import { describe, expect, it } from 'vitest';
import { jobAttempts, type TaskRecordItem } from './attempts.js';
import { CHECKER_LAMBDA, COORDINATOR_LAMBDA, costLine, formatUsd, PRICES, transactWriteUnits, writeUnits } from './cost.js';
import { DEFAULT_PLACEMENT, itemSizes, jobCost, requestsToMix } from './job-cost.js';
import type { AttemptEntry, JobRecord } from './model.js';

const T0 = Date.parse('2026-11-26T10:00:00.000Z');

const job: JobRecord = {
  jobId: 'j1',
  status: 'SUCCEEDED',
  phase: 'DONE',
  manifest: { input: 's3://b/in/', output: 's3://b/out/', mapper: 'cat', numReducers: 1 } as never,
  numMaps: 2,
  numReduces: 1,
  mapsCommitted: 2,
  reducesCommitted: 1,
  inputBytes: 2000,
  counters: {},
  createdAt: new Date(T0).toISOString(),
  updatedAt: new Date(T0 + 90_000).toISOString(),
  finishedAt: new Date(T0 + 90_000).toISOString(),
};

const entry = (e: Partial<AttemptEntry> & Pick<AttemptEntry, 'attempt' | 'worker' | 'startedAt' | 'endedAt'>): AttemptEntry => ({
  outcome: 'committed',
  ...e,
});

const task = (taskId: string, kind: 'map' | 'reduce', history: AttemptEntry[]): TaskRecordItem => ({
  jobId: 'j1',
  taskId,
  kind,
  index: Number(taskId.slice(2)),
  status: 'COMMITTED',
  attempt: history.length,
  failures: history.filter((h) => h.outcome === 'failed').length,
  stalls: 0,
  owner: history[history.length - 1]?.worker,
  claimedAt: history[history.length - 1]?.startedAt,
  history,
});

const tasks: TaskRecordItem[] = [
  task('m-00000', 'map', [
    entry({ attempt: 1, worker: 'w1', startedAt: T0 + 1000, endedAt: T0 + 4000, outcome: 'failed', reason: 'exit 1', requests: { 'S3.GetObject': 1, 'DynamoDB.UpdateItem': 2, 'SQS.ReceiveMessage': 1 } }),
    entry({ attempt: 2, worker: 'w2', startedAt: T0 + 5000, endedAt: T0 + 15000, outputBytes: 4e6, requests: { 'S3.GetObject': 1, 'S3.PutObject': 1, 'DynamoDB.UpdateItem': 3, 'DynamoDB.TransactWriteItems': 1, 'SQS.ReceiveMessage': 1, 'SQS.DeleteMessage': 1 } }),
  ]),
  task('m-00001', 'map', [
    entry({ attempt: 1, worker: 'w1', startedAt: T0 + 5000, endedAt: T0 + 25000, outputBytes: 6e6, requests: { 'S3.GetObject': 2, 'S3.PutObject': 1, 'DynamoDB.GetItem': 1, 'DynamoDB.TransactWriteItems': 1, 'SQS.ReceiveMessage': 2 } }),
  ]),
  task('r-00000', 'reduce', [
    entry({ attempt: 1, worker: 'w2', startedAt: T0 + 30000, endedAt: T0 + 60000, outputBytes: 1e6, requests: { 'S3.GetObject': 2, 'S3.PutObject': 1, 'S3.CopyObject': 1, 'DynamoDB.Query': 1, 'DynamoDB.TransactWriteItems': 1, 'SQS.DeleteMessage': 1 } }),
  ]),
];

describe('jobCost', () => {
  it("equals the price table applied to the job's recorded counts and attempt times", () => {
    const sizes = itemSizes(job, tasks);
    const cost = jobCost(job, jobAttempts(job, tasks, T0 + 90_000), sizes);

    // Recorded counts, summed by hand over the four attempts.
    const s3Get = 1 + 1 + 2 + 2;
    const s3Put = 1 + 1 + 1 + 1; // three PutObject, one CopyObject
    const sqs = 1 + 2 + 2 + 1;
    const commitWru = 2 * (writeUnits(sizes.taskItemBytes) + writeUnits(sizes.jobItemBytes));
    const workerWru = (2 + 3) * writeUnits(sizes.taskItemBytes) + 3 * commitWru;
    const workerRru = 1 + 1; // one GetItem of a small job item, one Query of two small task items
    // Coordinator: manifest GET + input LIST, one PUT; 3 task items in transactions, 3 job writes; 2 SQS batches.
    const coordWru = 3 * 2 * writeUnits(sizes.taskItemBytes) + 3 * writeUnits(sizes.jobItemBytes);
    const checkerMinutes = Math.ceil(90 / 60) + 1;
    const busySeconds = 3 + 10 + 20 + 30;
    const perSecond = (1 * PRICES.fargateVcpuHour + 2 * PRICES.fargateGbHour) / 3600;
    const expected = {
      fargate_on_demand: (busySeconds / 2) * perSecond, // one of the two workers on demand
      fargate_spot: (busySeconds / 2) * perSecond * (1 - PRICES.fargateSpotDiscount),
      s3_requests: ((s3Get + 2) * PRICES.s3GetPer1000) / 1000 + ((s3Put + 1) * PRICES.s3PutPer1000) / 1000,
      s3_storage: (11e6 / 1e9 / 30) * PRICES.s3GbMonth,
      sqs: ((sqs + 2) * PRICES.sqsPerMillion) / 1e6,
      dynamodb:
        ((workerWru + coordWru) * PRICES.ddbWritePerMillion) / 1e6 +
        ((workerRru + checkerMinutes * CHECKER_LAMBDA.readUnitsPerMinute) * PRICES.ddbReadPerMillion) / 1e6,
      lambda:
        ((1 + checkerMinutes) * PRICES.lambdaPerMillion) / 1e6 +
        (COORDINATOR_LAMBDA.seconds * COORDINATOR_LAMBDA.gb + checkerMinutes * CHECKER_LAMBDA.seconds * CHECKER_LAMBDA.gb) *
          PRICES.lambdaGbSecond,
    };
    for (const [service, usd] of Object.entries(expected)) {
      expect(cost.usd[service as keyof typeof expected], service).toBeCloseTo(usd, 12);
    }
    expect(cost.totalUsd).toBeCloseTo(Object.values(expected).reduce((a, b) => a + b, 0), 12);
    expect(cost.estimatedAttempts).toBe(0);
    expect(cost.workers).toBe(2);
  });

  it('prices a TransactWriteItems at 2 WRU per item written', () => {
    const sizes = { jobItemBytes: 3000, taskItemBytes: 600, numMaps: 1 };
    expect(requestsToMix({ 'DynamoDB.TransactWriteItems': 5 }, sizes).ddbWriteUnits).toBe(5 * 2 * (3 + 1));
    expect(transactWriteUnits([600])).toBe(2);
  });

  it('all on demand without Spot; estimates attempts of tasks that have no history', () => {
    const bare: TaskRecordItem = {
      ...task('m-00000', 'map', []),
      attempt: 1,
      owner: 'w9',
      claimedAt: T0 + 1000,
      committedAt: T0 + 11_000,
      history: undefined,
    };
    const attempts = jobAttempts(job, [bare], T0 + 90_000);
    expect(attempts).toMatchObject([{ worker: 'w9', startedAt: T0 + 1000, endedAt: T0 + 11_000, estimated: true }]);
    const cost = jobCost(job, attempts, itemSizes(job, [bare]), { ...DEFAULT_PLACEMENT, useSpot: false });
    expect(cost.usd.fargate_spot).toBe(0);
    expect(cost.usage.onDemandWorkerSeconds).toBe(10);
    expect(cost.estimatedAttempts).toBe(1);
  });

  it('formats the cost line', () => {
    expect(costLine(0.0031)).toBe('≈ $0.0031 on AWS');
    expect(formatUsd(0.031234)).toBe('$0.03');
    expect(formatUsd(1.5)).toBe('$1.50');
  });
});
