/**
 * Every TaskStore transition, fenced (the exact write sent) and refused (the named error
 * carrying the current record), against a mocked DynamoDB document client. The emulator
 * tests (test/fault/*) show the same writes hold against a real DynamoDB API.
 *
 * Over 300 lines on purpose: one file is the whole table of task transitions, each a
 * short fenced/refused pair, so a reviewer checks every condition in one place.
 */
import { ConditionalCheckFailedException, DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isErrorNamed, type StaleStateError } from '../core/errors.js';
import type { TaskRecord } from '../core/model.js';
import { Counters, counterKey, FRAMEWORK } from '../core/reporter.js';
import type { AwsClients } from './clients.js';
import { TaskStore } from './task-store.js';
import type { AttemptRef } from './task-writes.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(doc);
const store = new TaskStore({ doc } as unknown as AwsClients, 'tbl');

const NOW = 1_700_000_000_000;
const ref: AttemptRef = { jobId: 'j1', taskId: 'm-00003', owner: 'w1', attempt: 2, startedAt: NOW - 5000 };
const KEY = { pk: 'JOB#j1', sk: 'TASK#m-00003' };
const OWNER_NAMES = { '#status': 'status', '#owner': 'owner', '#attempt': 'attempt' };
const OWNER_FENCE = '#status = :running AND #owner = :owner AND #attempt = :attempt';
const OWNER_VALUES = { ':running': 'RUNNING', ':owner': 'w1', ':attempt': 2 };
const HISTORY = '#history = list_append(if_not_exists(#history, :noHistory), :entry)';

function record(over: Partial<TaskRecord> = {}): TaskRecord {
  return { jobId: 'j1', taskId: 'm-00003', kind: 'map', index: 3, status: 'RUNNING', attempt: 2, failures: 0, stalls: 0, owner: 'w1', claimedAt: NOW - 5000, leaseExpiresAt: NOW + 5000, ...over };
}

/** DynamoDB's answer to a lost condition: the item as it is now, in wire format. */
function conditionFailed(current: TaskRecord) {
  return new ConditionalCheckFailedException({
    message: 'The conditional request failed',
    $metadata: {},
    Item: marshall({ ...KEY, ...current }, { removeUndefinedValues: true }),
  });
}

function lastUpdate() {
  const calls = mock.commandCalls(UpdateCommand);
  expect(calls).toHaveLength(1);
  return calls[0]!.args[0].input;
}

async function refused(p: Promise<unknown>, name: string): Promise<StaleStateError<TaskRecord>> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isErrorNamed(err, name), `expected ${name}, got ${String(err)}`).toBe(true);
  return err as StaleStateError<TaskRecord>;
}

beforeEach(() => mock.reset());

describe('claim', () => {
  it('PENDING → RUNNING, attempt + 1, first lease, into the active index', async () => {
    mock.on(UpdateCommand).resolves({ Attributes: { ...KEY, ...record({ claimedAt: NOW, leaseExpiresAt: NOW + 10_000 }) } });
    const t = await store.claim('j1', 'm-00003', 'w1', NOW, 10_000);
    expect(t).toMatchObject({ status: 'RUNNING', owner: 'w1', attempt: 2, leaseExpiresAt: NOW + 10_000 });
    expect(lastUpdate()).toEqual({
      TableName: 'tbl',
      Key: KEY,
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      UpdateExpression:
        'SET #status = :running, #owner = :owner, #attempt = #attempt + :one, claimedAt = :now, ' +
        'leaseExpiresAt = :lease, activeKind = :active, activeSort = :sort REMOVE requeuedAt',
      ConditionExpression: '#status = :pending AND attribute_not_exists(backupOwner)',
      ExpressionAttributeNames: OWNER_NAMES,
      ExpressionAttributeValues: {
        ':running': 'RUNNING',
        ':pending': 'PENDING',
        ':owner': 'w1',
        ':one': 1,
        ':now': NOW,
        ':lease': NOW + 10_000,
        ':active': 'TASK',
        ':sort': 'j1#m-00003',
      },
      ReturnValues: 'ALL_NEW',
    });
  });

  it('refused when not PENDING: StaleStateError with the current record', async () => {
    mock.on(UpdateCommand).rejects(conditionFailed(record({ status: 'COMMITTED', owner: 'w9', committedAttempt: 2 })));
    const err = await refused(store.claim('j1', 'm-00003', 'w1', NOW, 10_000), 'StaleStateError');
    expect(err.current).toMatchObject({ status: 'COMMITTED', owner: 'w9' });
  });

  it('a claim whose response was lost and was sent again is recognised by owner and claim time', async () => {
    mock.on(UpdateCommand).rejects(conditionFailed(record({ claimedAt: NOW })));
    expect(await store.claim('j1', 'm-00003', 'w1', NOW, 10_000)).toMatchObject({ status: 'RUNNING', owner: 'w1', claimedAt: NOW });
    // Another worker's claim, or this worker's earlier one, is not mistaken for it.
    mock.on(UpdateCommand).rejects(conditionFailed(record({ claimedAt: NOW - 1 })));
    await refused(store.claim('j1', 'm-00003', 'w1', NOW, 10_000), 'StaleStateError');
  });
});

describe('heartbeat', () => {
  it('extends the lease, fenced on owner and attempt, and only while the job\'s end has not marked the task', async () => {
    mock.on(UpdateCommand).resolves({});
    await store.heartbeat(ref, NOW, 10_000);
    expect(lastUpdate()).toMatchObject({
      Key: KEY,
      UpdateExpression: 'SET leaseExpiresAt = :lease',
      ConditionExpression: `${OWNER_FENCE} AND attribute_not_exists(jobEnded)`,
      ExpressionAttributeNames: OWNER_NAMES,
      ExpressionAttributeValues: { ...OWNER_VALUES, ':lease': NOW + 10_000 },
    });
  });

  it('refused: LeaseLostError with the current record', async () => {
    mock.on(UpdateCommand).rejects(conditionFailed(record({ status: 'PENDING', stalls: 1 })));
    const err = await refused(store.heartbeat(ref, NOW, 10_000), 'LeaseLostError');
    expect(err.current).toMatchObject({ status: 'PENDING', stalls: 1 });
  });

  it('refused on a task its job\'s end marked: JobEndedError (not a lost lease), even while this attempt still owns it', async () => {
    mock.on(UpdateCommand).rejects(conditionFailed(record({ jobEnded: 'CANCELLED' })));
    const err = await refused(store.heartbeat(ref, NOW, 10_000), 'JobEndedError');
    expect(err.current).toMatchObject({ status: 'RUNNING', owner: 'w1', attempt: 2, jobEnded: 'CANCELLED' });
    expect(err.message).toContain('CANCELLED');
  });
});

describe('commit', () => {
  const result = { output: { key: 'tmp/j1/map/m-00003/attempt-2', offsets: [0, 5, 9] }, counters: { 'g.a': 3, 'g.zero': 0 } };
  const details = { inputBytes: 100, outputBytes: 9, requests: { 'S3.GetObject': 1 } };

  it('one transaction: the task (owner fence and unexpired lease, history appended), the job counters and its phase sums', async () => {
    mock.on(TransactWriteCommand).resolves({});
    expect(await store.commit(ref, NOW, result, details)).toBe('committed');
    const [call] = mock.commandCalls(TransactWriteCommand);
    const [task, job] = call!.args[0].input.TransactItems!;
    expect(task!.Update).toEqual({
      TableName: 'tbl',
      Key: KEY,
      UpdateExpression: `SET #status = :committed, committedAttempt = :attempt, committedAt = :now, #output = :output, ${HISTORY} REMOVE activeKind, activeSort, leaseExpiresAt`,
      ConditionExpression: `${OWNER_FENCE} AND leaseExpiresAt >= :now`,
      ExpressionAttributeNames: { ...OWNER_NAMES, '#history': 'history', '#output': 'output' },
      ExpressionAttributeValues: {
        ...OWNER_VALUES,
        ':committed': 'COMMITTED',
        ':now': NOW,
        ':output': result.output,
        ':noHistory': [],
        ':entry': [{ attempt: 2, worker: 'w1', startedAt: NOW - 5000, endedAt: NOW, outcome: 'committed', ...details }],
      },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    expect(job!.Update).toEqual({
      TableName: 'tbl',
      Key: { pk: 'JOB#j1', sk: 'JOB' },
      // The attempt (claimed 5 s before, 100 bytes read) added once to the map phase's sums.
      UpdateExpression: 'ADD #done :one, #statN :one, #statMs :ms, #statMsSq :msSq, #statBytes :bytes, #counters.#c0 :c0',
      ConditionExpression: '#status IN (:creatingJob, :runningJob)',
      ExpressionAttributeNames: {
        '#done': 'mapsCommitted',
        '#status': 'status',
        '#statN': 'mapStatCount',
        '#statMs': 'mapStatMs',
        '#statMsSq': 'mapStatMsSq',
        '#statBytes': 'mapStatBytes',
        '#counters': 'counters',
        '#c0': 'g.a',
      },
      ExpressionAttributeValues: {
        ':one': 1,
        ':runningJob': 'RUNNING',
        ':creatingJob': 'CREATING',
        ':ms': 5000,
        ':msSq': 25_000_000,
        ':bytes': 100,
        ':c0': 3,
      },
    });
    // The map's output item, beside its task, in the same transaction (what reducers list).
    expect(call!.args[0].input.TransactItems![2]!.Put).toEqual({
      TableName: 'tbl',
      Item: { pk: 'JOB#j1', sk: 'MAPOUT#m-00003', itemType: 'MAPOUT', taskId: 'm-00003', index: 3, status: 'COMMITTED', output: result.output },
    });
  });

  it('a reduce with no counters adds to reducesCommitted and the reduce sums only (no bytes reported: 0)', async () => {
    mock.on(TransactWriteCommand).resolves({});
    await store.commit({ ...ref, taskId: 's2-r-00000', startedAt: NOW - 1200 }, NOW, { counters: {} });
    const items = mock.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items).toHaveLength(2); // no map output item for a reduce
    const job = items[1]!.Update!;
    expect(job.UpdateExpression).toBe('ADD #done :one, #statN :one, #statMs :ms, #statMsSq :msSq, #statBytes :bytes');
    expect(job.ExpressionAttributeNames).toEqual({
      '#done': 'reducesCommitted',
      '#status': 'status',
      '#statN': 'reduceStatCount',
      '#statMs': 'reduceStatMs',
      '#statMsSq': 'reduceStatMsSq',
      '#statBytes': 'reduceStatBytes',
    });
    expect(job.ExpressionAttributeValues).toMatchObject({ ':ms': 1200, ':msSq': 1_440_000, ':bytes': 0 });
  });

  it("a backup's commit adds the backup's own duration (from its claim) to the same sums, with SPECULATIVE_WINS", async () => {
    mock.on(TransactWriteCommand).resolves({});
    const backup: AttemptRef = { ...ref, owner: 'w2', attempt: 3, startedAt: NOW - 800, backup: true };
    await store.commit(backup, NOW, { counters: {} }, { inputBytes: 64 });
    const [task, job] = mock.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(task!.Update!.ConditionExpression).toContain('backupOwner = :bowner');
    expect(job!.Update!.UpdateExpression).toBe('ADD #done :one, #statN :one, #statMs :ms, #statMsSq :msSq, #statBytes :bytes, #counters.#c0 :c0');
    expect(job!.Update!.ExpressionAttributeNames).toMatchObject({ '#statN': 'mapStatCount', '#c0': counterKey(FRAMEWORK, Counters.SPECULATIVE_WINS) });
    expect(job!.Update!.ExpressionAttributeValues).toMatchObject({ ':ms': 800, ':msSq': 640_000, ':bytes': 64, ':c0': 1 });
  });

  const cancelled = (current: TaskRecord) =>
    new TransactionCanceledException({
      message: 'Transaction cancelled',
      $metadata: {},
      CancellationReasons: [
        { Code: 'ConditionalCheckFailed', Item: marshall({ ...KEY, ...current }, { removeUndefinedValues: true }) },
        { Code: 'None' },
      ],
    });

  it('refused when another attempt owns the task: LeaseLostError with the current record', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(record({ attempt: 3, owner: 'w2' })));
    const err = await refused(store.commit(ref, NOW, result), 'LeaseLostError');
    expect(err.current).toMatchObject({ status: 'RUNNING', attempt: 3, owner: 'w2' });
  });

  it('already COMMITTED by this very attempt (a lost response): `already`, not an error, and nothing added twice', async () => {
    mock.on(TransactWriteCommand).rejects(cancelled(record({ status: 'COMMITTED', committedAttempt: 2 })));
    expect(await store.commit(ref, NOW, result)).toBe('already');
    // The refused transaction added nothing, and `already` sends no second write that would.
    expect(mock.commandCalls(TransactWriteCommand)).toHaveLength(1);
    expect(mock.commandCalls(UpdateCommand)).toHaveLength(0);
    // Committed by another attempt of the same owner: refused.
    mock.on(TransactWriteCommand).rejects(cancelled(record({ status: 'COMMITTED', attempt: 3, committedAttempt: 3 })));
    await refused(store.commit(ref, NOW, result), 'LeaseLostError');
  });
});

describe('attempt endings', () => {
  it('fail with attempts left: PENDING, failures + 1, requeuedAt, history', async () => {
    mock.on(UpdateCommand).resolves({});
    expect(await store.fail(ref, NOW, 'exit 3', false, { requests: { 'S3.GetObject': 2 } })).toBe('PENDING');
    expect(lastUpdate()).toMatchObject({
      UpdateExpression: `SET #status = :next, failures = failures + :one, lastError = :err, ${HISTORY}, requeuedAt = :now REMOVE leaseExpiresAt`,
      ConditionExpression: OWNER_FENCE,
      ExpressionAttributeNames: { ...OWNER_NAMES, '#history': 'history' },
      ExpressionAttributeValues: {
        ...OWNER_VALUES,
        ':next': 'PENDING',
        ':err': 'exit 3',
        ':one': 1,
        ':now': NOW,
        ':noHistory': [],
        ':entry': [{ attempt: 2, worker: 'w1', startedAt: NOW - 5000, endedAt: NOW, outcome: 'failed', reason: 'exit 3', requests: { 'S3.GetObject': 2 } }],
      },
    });
  });

  it('fail on the last attempt: FAILED and out of the active index', async () => {
    mock.on(UpdateCommand).resolves({});
    expect(await store.fail(ref, NOW, 'exit 3', true)).toBe('FAILED');
    const u = lastUpdate();
    expect(u.UpdateExpression).toBe(`SET #status = :next, failures = failures + :one, lastError = :err, ${HISTORY} REMOVE activeKind, activeSort, leaseExpiresAt`);
    expect(u.ExpressionAttributeValues).toMatchObject({ ':next': 'FAILED' });
    expect(u.ExpressionAttributeValues).not.toHaveProperty(':now');
  });

  it('fail refused: LeaseLostError', async () => {
    mock.on(UpdateCommand).rejects(conditionFailed(record({ status: 'PENDING', stalls: 1 })));
    await refused(store.fail(ref, NOW, 'x', false), 'LeaseLostError');
  });

  it('release: PENDING, requeuedAt, not counted, history "released"', async () => {
    mock.on(UpdateCommand).resolves({});
    await store.release(ref, NOW, { reason: 'worker shutting down' });
    expect(lastUpdate()).toMatchObject({
      UpdateExpression: `SET #status = :pending, requeuedAt = :now, ${HISTORY} REMOVE leaseExpiresAt`,
      ConditionExpression: OWNER_FENCE,
      ExpressionAttributeValues: {
        ...OWNER_VALUES,
        ':pending': 'PENDING',
        ':now': NOW,
        ':entry': [{ attempt: 2, worker: 'w1', startedAt: NOW - 5000, endedAt: NOW, outcome: 'released', reason: 'worker shutting down' }],
      },
    });
    mock.reset();
    mock.on(UpdateCommand).rejects(conditionFailed(record({ attempt: 3 })));
    await refused(store.release(ref, NOW), 'LeaseLostError');
  });

  it('cancelAttempt: RUNNING → CANCELLED by its owner, history "cancelled"', async () => {
    mock.on(UpdateCommand).resolves({});
    await store.cancelAttempt(ref, NOW, { reason: 'job CANCELLED' });
    expect(lastUpdate()).toMatchObject({
      UpdateExpression: `SET #status = :cancelled, ${HISTORY} REMOVE activeKind, activeSort, leaseExpiresAt`,
      ConditionExpression: OWNER_FENCE,
      ExpressionAttributeValues: { ...OWNER_VALUES, ':cancelled': 'CANCELLED', ':entry': [expect.objectContaining({ outcome: 'cancelled' })] },
    });
    mock.reset();
    mock.on(UpdateCommand).rejects(conditionFailed(record({ status: 'COMMITTED' })));
    await refused(store.cancelAttempt(ref, NOW), 'LeaseLostError');
  });

  it('reclaim (checker): fenced on the attempt seen and an ended lease; stalls + 1; history "reclaimed"', async () => {
    mock.on(UpdateCommand).resolves({});
    const seen = record({ leaseExpiresAt: NOW - 1 });
    expect(await store.reclaim(seen, NOW, false)).toBe('PENDING');
    expect(lastUpdate()).toMatchObject({
      UpdateExpression: `SET #status = :next, stalls = stalls + :one, lastError = :err, ${HISTORY}, requeuedAt = :now REMOVE leaseExpiresAt`,
      ConditionExpression: `${OWNER_FENCE} AND leaseExpiresAt < :now`,
      ExpressionAttributeValues: {
        ...OWNER_VALUES,
        ':next': 'PENDING',
        ':now': NOW,
        ':entry': [expect.objectContaining({ attempt: 2, worker: 'w1', startedAt: NOW - 5000, endedAt: NOW, outcome: 'reclaimed' })],
      },
    });
    mock.reset();
    mock.on(UpdateCommand).resolves({});
    expect(await store.reclaim(seen, NOW, true)).toBe('FAILED');
    expect(lastUpdate().ExpressionAttributeValues).toMatchObject({ ':next': 'FAILED', ':now': NOW });
  });

  it('reclaim refused (another checker or the owner moved first): StaleStateError, not LeaseLostError', async () => {
    mock.on(UpdateCommand).rejects(conditionFailed(record({ status: 'PENDING', stalls: 1 })));
    const err = await refused(store.reclaim(record(), NOW, false), 'StaleStateError');
    expect(err.name).toBe('StaleStateError');
    expect(err.current).toMatchObject({ status: 'PENDING', stalls: 1 });
  });
});

describe('checker and cancel writes on tasks nobody runs', () => {
  const pending = record({ status: 'PENDING', owner: undefined, requeuedAt: NOW - 9000 });

  it('touchRequeued: fenced on PENDING and the requeuedAt seen', async () => {
    mock.on(UpdateCommand).resolves({});
    await store.touchRequeued(pending, NOW);
    expect(lastUpdate()).toMatchObject({
      UpdateExpression: 'SET requeuedAt = :now',
      ConditionExpression: '#status = :pending AND requeuedAt = :seen',
      ExpressionAttributeValues: { ':pending': 'PENDING', ':seen': NOW - 9000, ':now': NOW },
    });
    mock.reset();
    mock.on(UpdateCommand).rejects(conditionFailed(record()));
    await refused(store.touchRequeued(pending, NOW), 'StaleStateError');
  });

  it('redrive: fenced on PENDING and the attempt seen; returns the count', async () => {
    mock.on(UpdateCommand).resolves({ Attributes: { redrives: 2 } });
    expect(await store.redrive(pending, NOW)).toBe(2);
    expect(lastUpdate()).toMatchObject({
      UpdateExpression: 'SET redrives = if_not_exists(redrives, :zero) + :one, requeuedAt = :now',
      ConditionExpression: '#status = :pending AND #attempt = :attempt',
      ExpressionAttributeValues: { ':pending': 'PENDING', ':attempt': 2, ':zero': 0, ':one': 1, ':now': NOW },
      ReturnValues: 'UPDATED_NEW',
    });
    mock.reset();
    mock.on(UpdateCommand).rejects(conditionFailed(record()));
    await refused(store.redrive(pending, NOW), 'StaleStateError');
  });

  it('cancel: only a PENDING task', async () => {
    mock.on(UpdateCommand).resolves({});
    await store.cancel('j1', 'm-00003');
    expect(lastUpdate()).toMatchObject({
      UpdateExpression: 'SET #status = :cancelled REMOVE activeKind, activeSort, leaseExpiresAt',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':cancelled': 'CANCELLED', ':pending': 'PENDING' },
    });
    mock.reset();
    mock.on(UpdateCommand).rejects(conditionFailed(record()));
    await refused(store.cancel('j1', 'm-00003'), 'StaleStateError');
  });

  it('stopForJobEnd: PENDING tasks cancelled and marked, RUNNING ones marked, 100 per transaction; ended ones untouched', async () => {
    const listed = Array.from({ length: 150 }, (_, i) => ({ taskId: `m-${String(i).padStart(5, '0')}`, status: (i % 2 ? 'RUNNING' : 'PENDING') as TaskRecord['status'] }));
    listed.push({ taskId: 'r-00000', status: 'COMMITTED' });
    mock.on(TransactWriteCommand).resolves({});
    await store.stopForJobEnd('j1', 'FAILED', listed);
    const chunks = mock.commandCalls(TransactWriteCommand).map((c) => c.args[0].input.TransactItems!);
    expect(chunks.map((c) => c.length)).toEqual([100, 50]);
    expect(chunks[0]![0]!.Update).toMatchObject({
      Key: { pk: 'JOB#j1', sk: 'TASK#m-00000' },
      UpdateExpression: 'SET #status = :cancelled, jobEnded = :ended REMOVE activeKind, activeSort, leaseExpiresAt',
      ConditionExpression: '#status = :pending',
      ExpressionAttributeValues: { ':cancelled': 'CANCELLED', ':pending': 'PENDING', ':ended': 'FAILED' },
    });
    expect(chunks[1]![49]!.Update).toMatchObject({
      Key: { pk: 'JOB#j1', sk: 'TASK#m-00149' },
      UpdateExpression: 'SET jobEnded = :ended',
      ConditionExpression: 'attribute_exists(#pk)',
      ExpressionAttributeValues: { ':ended': 'FAILED' },
    });
  });

  it('stopForJobEnd: a PENDING task claimed meanwhile (its cancel refused) is marked instead', async () => {
    mock.on(TransactWriteCommand).rejects(new TransactionCanceledException({ message: 'x', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }] }));
    mock.on(UpdateCommand).rejectsOnce(conditionFailed(record())).resolves({});
    await store.stopForJobEnd('j1', 'CANCELLED', [{ taskId: 'm-00003', status: 'PENDING' }]);
    const writes = mock.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(writes.map((w) => w.ConditionExpression)).toEqual(['#status = :pending', 'attribute_exists(#pk)']);
    expect(writes[1]).toMatchObject({ Key: KEY, UpdateExpression: 'SET jobEnded = :ended', ExpressionAttributeValues: { ':ended': 'CANCELLED' } });
  });
});

describe('putNew', () => {
  const tasks = [record({ status: 'PENDING', owner: undefined }), record({ taskId: 'm-00004', index: 4, status: 'PENDING', owner: undefined })];

  it('puts each task only if absent, in one transaction per 100', async () => {
    mock.on(TransactWriteCommand).resolves({});
    await store.putNew(tasks);
    const items = mock.commandCalls(TransactWriteCommand)[0]!.args[0].input.TransactItems!;
    expect(items.map((i) => i.Put!.ConditionExpression)).toEqual(['attribute_not_exists(pk)', 'attribute_not_exists(pk)']);
    expect(items[1]!.Put!.Item).toMatchObject({ pk: 'JOB#j1', sk: 'TASK#m-00004', itemType: 'TASK' });
  });

  it('a refused transaction (a concurrent coordinator) falls back to one conditional put each, never overwriting', async () => {
    mock.on(TransactWriteCommand).rejects(new TransactionCanceledException({ message: 'x', $metadata: {}, CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }] }));
    mock.on(PutCommand).rejectsOnce(new ConditionalCheckFailedException({ message: 'exists', $metadata: {} })).resolves({});
    await store.putNew(tasks);
    const puts = mock.commandCalls(PutCommand);
    expect(puts).toHaveLength(2);
    expect(puts.every((p) => p.args[0].input.ConditionExpression === 'attribute_not_exists(pk)')).toBe(true);
  });
});

describe('records read back', () => {
  it('a malformed stored item is an InvalidRecordError naming the field, not a cast', async () => {
    mock.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({ message: 'x', $metadata: {}, Item: marshall({ ...KEY, jobId: 'j1', status: 'RUNNING' }) }),
    );
    const err = await store.heartbeat(ref, NOW, 1000).catch((e: unknown) => e);
    expect(isErrorNamed(err, 'InvalidRecordError')).toBe(true);
    expect(String((err as Error).message)).toContain('taskId');
  });
});
