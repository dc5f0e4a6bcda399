/**
 * The wait's read interval (cli/poll-schedule.ts): slower only while the map work left is
 * more than the running maps finish within one attempt; every other state reads every
 * WAIT_POLL_MS. And `waitForJob` follows it (mocked SDK clients, real timers).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import type { AwsClients } from '../aws/clients.js';
import type { JobRecord } from '../core/model.js';
import { localResourceNames } from '../core/resources.js';
import { memoryIo } from './io.js';
import { waitForJob } from './job-client.js';
import { mapPhaseLeftMs, nextPollMs, type PollJobView, WAIT_POLL_MS, WAIT_POLL_SLOW_MAX_MS } from './poll-schedule.js';

const MIB = 1024 * 1024;

/** The bench's e2e job: 8 maps of 32 MiB on 2 workers, `committed` of them done in 1100 ms each. */
function e2eJob(committed: number, over: Partial<PollJobView> = {}): PollJobView {
  return {
    status: 'RUNNING',
    phase: 'MAP',
    numMaps: 8,
    numReduces: 2,
    mapsCommitted: committed,
    inputBytes: 8 * 32 * MIB,
    ...(committed > 0 ? { mapStatCount: committed, mapStatMs: committed * 1100, mapStatBytes: committed * 32 * MIB } : {}),
    ...over,
  };
}

describe('nextPollMs', () => {
  it('reads less often while more than one wave of maps is left, every WAIT_POLL_MS in the last wave', () => {
    // 6 maps of 1100 ms left on 2 workers: the end is >= 3300 - 1100 ms away.
    expect(mapPhaseLeftMs(e2eJob(2), 2)).toBeCloseTo(2200);
    expect(nextPollMs(e2eJob(2), 2)).toBe(WAIT_POLL_SLOW_MAX_MS);
    expect(nextPollMs(e2eJob(4), 2)).toBe(275); // (2200 - 1100) / 4
    expect(nextPollMs(e2eJob(6), 2)).toBe(WAIT_POLL_MS); // the last wave runs
    expect(nextPollMs(e2eJob(2), 8)).toBe(WAIT_POLL_MS); // 8 at once: all left are running
  });

  it('reads every WAIT_POLL_MS when the record does not bound the end', () => {
    expect(nextPollMs(undefined, 0)).toBe(WAIT_POLL_MS); // not created yet
    expect(nextPollMs(e2eJob(0), 2)).toBe(WAIT_POLL_MS); // no map committed: no pace
    expect(nextPollMs(e2eJob(2), 0)).toBe(WAIT_POLL_MS); // no listing saw a running map
    expect(nextPollMs(e2eJob(2, { status: 'CREATING' }), 2)).toBe(WAIT_POLL_MS);
    expect(nextPollMs(e2eJob(8, { phase: 'REDUCE' }), 2)).toBe(WAIT_POLL_MS);
    expect(nextPollMs(e2eJob(2, { reduceReleasedAt: '2026-11-28T06:00:00.000Z' }), 2)).toBe(WAIT_POLL_MS); // slow-start
    expect(nextPollMs(e2eJob(2, { numReduces: 0 }), 2)).toBe(WAIT_POLL_MS); // map-only: maps end the job
    expect(nextPollMs(e2eJob(2, { step: 1 }), 2)).toBe(WAIT_POLL_MS); // a later step's input is not on the record
  });

  it('counts the work left in bytes: small maps at the end keep the fast reads', () => {
    // 3 maps of 32 MiB done, 5 of 1 MiB left (largest are sent first).
    const job = e2eJob(3, { inputBytes: 3 * 32 * MIB + 5 * MIB });
    expect(mapPhaseLeftMs(job, 2)).toBeLessThan(0);
    expect(nextPollMs(job, 2)).toBe(WAIT_POLL_MS);
    // Decompressed bytes read above the stored size (a gzip input): no work left by bytes.
    expect(nextPollMs(e2eJob(2, { inputBytes: 16 * MIB }), 2)).toBe(WAIT_POLL_MS);
  });
});

/** The gaps, ms, between the wait's reads of a job record that stays `record` for `reads` reads and then SUCCEEDED. */
async function readGaps(record: JobRecord, reads: number, runningMaps: number): Promise<number[]> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
  const docMock = mockClient(doc);
  const at: number[] = [];
  try {
    docMock.on(GetCommand).callsFake(() => {
      at.push(Date.now());
      const done = at.length > reads;
      return { Item: { pk: `JOB#${record.jobId}`, sk: 'JOB', ...record, ...(done ? { status: 'SUCCEEDED', phase: 'DONE' } : {}) } };
    });
    const task = (i: number, status: string) => ({ jobId: record.jobId, taskId: `m-0000${i}`, kind: 'map', index: i, status, attempt: 1, failures: 0, stalls: 0 });
    // Once the job ended, no attempt runs (else the wait waits for them to stop).
    docMock.on(QueryCommand).callsFake(() => ({
      Items: Array.from({ length: record.numMaps }, (_, i) =>
        task(i, at.length > reads ? 'COMMITTED' : i < runningMaps ? 'RUNNING' : i < runningMaps + record.mapsCommitted ? 'COMMITTED' : 'PENDING'),
      ),
    }));
    const target = { kind: 'local' as const, clients: { doc } as unknown as AwsClients, names: localResourceNames('poll17'), description: 'test' };
    const { job } = await waitForJob(target, record.jobId, memoryIo(), { json: true });
    expect(job.status).toBe('SUCCEEDED');
  } finally {
    docMock.restore();
    doc.destroy();
  }
  return at.slice(1).map((t, i) => t - at[i]!);
}

describe('waitForJob', () => {
  const base = { jobId: 'j-poll17', counters: {}, createdAt: '2026-11-28T06:00:00.000Z', updatedAt: '2026-11-28T06:00:01.000Z', reducesCommitted: 0 };

  it('reads the record less often while the map phase has more than a wave left', async () => {
    const gaps = await readGaps({ ...base, ...e2eJob(2) } as JobRecord, 2, 2);
    expect(gaps.length).toBe(2);
    for (const gap of gaps) expect(gap).toBeGreaterThanOrEqual(WAIT_POLL_SLOW_MAX_MS - 20);
  });

  it('reads every WAIT_POLL_MS in the reduce phase', async () => {
    const gaps = await readGaps({ ...base, ...e2eJob(8, { phase: 'REDUCE' }) } as JobRecord, 3, 0);
    expect(gaps.length).toBe(3);
    // A slow read would be >= WAIT_POLL_SLOW_MAX_MS apart (setTimeout never fires early).
    for (const gap of gaps) expect(gap).toBeLessThan(WAIT_POLL_SLOW_MAX_MS);
  });
});
