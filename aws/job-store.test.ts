/**
 * Every JobStore transition, fenced (the exact write sent, `true`) and refused (`false`:
 * somebody else acted), against a mocked DynamoDB document client.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { isErrorNamed, type StaleStateError } from '../core/errors.js';
import type { JobRecord } from '../core/model.js';
import type { AwsClients } from './clients.js';
import { JobStore } from './job-store.js';

const doc = DynamoDBDocumentClient.from(new DynamoDBClient({ region: 'us-east-1' }));
const mock = mockClient(doc);
const store = new JobStore({ doc } as unknown as AwsClients, 'tbl');
const KEY = { pk: 'JOB#j1', sk: 'JOB' };
const NOW = '2026-11-26T14:00:00.000Z';
const lost = () => new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

const job: JobRecord = {
  jobId: 'j1',
  status: 'CREATING',
  phase: 'MAP',
  numMaps: 2,
  numReduces: 1,
  mapsCommitted: 0,
  reducesCommitted: 0,
  inputBytes: 10,
  counters: {},
  createdAt: NOW,
  updatedAt: NOW,
};

beforeEach(() => mock.reset());

function sent() {
  const calls = mock.commandCalls(UpdateCommand);
  expect(calls).toHaveLength(1);
  return calls[0]!.args[0].input;
}

/** Each transition: the write it sends, then `false` when its condition is lost. */
const transitions: {
  name: string;
  call: () => Promise<boolean>;
  update: string;
  condition: string;
  values: Record<string, unknown>;
  names: Record<string, string>;
}[] = [
  {
    name: 'markTasksWritten',
    call: () => store.markTasksWritten('j1', NOW),
    update: 'SET tasksWritten = :t, updatedAt = :now',
    condition: '#status = :creating',
    values: { ':t': true, ':now': NOW, ':creating': 'CREATING' },
    names: { '#status': 'status' },
  },
  {
    name: 'markRunning',
    call: () => store.markRunning('j1', NOW),
    update: 'SET #status = :running, startedAt = :now, updatedAt = :now',
    condition: '#status = :creating',
    values: { ':running': 'RUNNING', ':creating': 'CREATING', ':now': NOW },
    names: { '#status': 'status' },
  },
  {
    name: 'startReducePhase',
    call: () => store.startReducePhase('j1', NOW),
    update: 'SET #phase = :reduce, phaseChangedAt = :now, updatedAt = :now',
    condition: '#status IN (:creating, :running) AND #phase = :map AND mapsCommitted = numMaps AND numReduces > :zero',
    values: { ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':now': NOW },
    names: { '#status': 'status', '#phase': 'phase' },
  },
  {
    name: 'markReduceEnqueued',
    call: () => store.markReduceEnqueued('j1', NOW),
    update: 'SET reduceEnqueuedAt = :now',
    condition: '#phase = :reduce OR (#phase = :map AND attribute_exists(reduceReleasedAt))',
    values: { ':reduce': 'REDUCE', ':map': 'MAP', ':now': NOW },
    names: { '#phase': 'phase' },
  },
  {
    name: 'releaseReduces (slow-start, step 0)',
    call: () => store.releaseReduces('j1', 0, 2, NOW),
    update: 'SET reduceReleasedAt = :now, updatedAt = :now',
    condition:
      '#status IN (:creating, :running) AND #phase = :map AND (attribute_not_exists(#step) OR #step = :from) AND attribute_not_exists(reduceReleasedAt) ' +
      'AND numReduces > :zero AND mapsCommitted >= :threshold',
    values: { ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':threshold': 2, ':from': 0, ':now': NOW },
    names: { '#status': 'status', '#phase': 'phase', '#step': 'step' },
  },
  {
    name: 'beginFinalize',
    call: () => store.beginFinalize('j1', NOW),
    update: 'SET #phase = :fin, phaseChangedAt = :now, updatedAt = :now',
    condition:
      '#status IN (:creating, :running) AND ((#phase = :reduce AND reducesCommitted = numReduces) OR ' +
      '(#phase = :map AND numReduces = :zero AND mapsCommitted = numMaps))',
    values: { ':fin': 'FINALIZING', ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':now': NOW },
    names: { '#status': 'status', '#phase': 'phase' },
  },
  {
    name: 'enterStep (the committed counts and their sums start again)',
    call: () => store.enterStep('j1', 1, { numMaps: 4, numReduces: 2, done: { numMaps: 8, numReduces: 2, finishedAt: NOW } }, NOW),
    update:
      'SET #step = :next, #phase = :map, numMaps = :maps, numReduces = :reduces, mapsCommitted = :zero, reducesCommitted = :zero, ' +
      'stepsDone = list_append(if_not_exists(stepsDone, :empty), :done), phaseChangedAt = :now, updatedAt = :now ' +
      'REMOVE reduceEnqueuedAt, reduceReleasedAt, mapEnqueuedAt, splitPoints, ' +
      'mapStatCount, mapStatMs, mapStatMsSq, mapStatBytes, reduceStatCount, reduceStatMs, reduceStatMsSq, reduceStatBytes',
    condition: '#status IN (:creating, :running) AND #phase = :stepping AND #step = :from',
    values: {
      ':next': 2, ':map': 'MAP', ':maps': 4, ':reduces': 2, ':zero': 0, ':empty': [], ':done': [{ numMaps: 8, numReduces: 2, finishedAt: NOW }],
      ':stepping': 'STEPPING', ':running': 'RUNNING', ':creating': 'CREATING', ':from': 1, ':now': NOW,
    },
    names: { '#status': 'status', '#phase': 'phase', '#step': 'step' },
  },
  {
    name: 'succeed',
    call: () => store.succeed('j1', NOW),
    update: 'SET #status = :succeeded, #phase = :done, finishedAt = :now, updatedAt = :now REMOVE activeKind, activeSort',
    condition: '#status IN (:creating, :running) AND #phase = :fin',
    values: { ':succeeded': 'SUCCEEDED', ':done': 'DONE', ':running': 'RUNNING', ':creating': 'CREATING', ':fin': 'FINALIZING', ':now': NOW },
    names: { '#status': 'status', '#phase': 'phase' },
  },
  {
    name: 'end (FAILED)',
    call: () => store.end('j1', 'FAILED', 'task m-1 failed', NOW),
    update: 'SET #status = :status, reason = :reason, finishedAt = :now, updatedAt = :now REMOVE activeKind, activeSort',
    condition: '#status IN (:creating, :running)',
    values: { ':status': 'FAILED', ':reason': 'task m-1 failed', ':now': NOW, ':creating': 'CREATING', ':running': 'RUNNING' },
    names: { '#status': 'status' },
  },
  {
    name: 'end (CANCELLED, fenced against the finisher)',
    call: () => store.end('j1', 'CANCELLED', 'by user', NOW),
    update: 'SET #status = :status, reason = :reason, finishedAt = :now, updatedAt = :now REMOVE activeKind, activeSort',
    condition: '#status IN (:creating, :running) AND #phase <> :fin',
    values: { ':status': 'CANCELLED', ':reason': 'by user', ':now': NOW, ':creating': 'CREATING', ':running': 'RUNNING', ':fin': 'FINALIZING' },
    names: { '#status': 'status', '#phase': 'phase' },
  },
];

describe.each(transitions)('$name', (t) => {
  it('sends its fenced write and reports that it won', async () => {
    mock.on(UpdateCommand).resolves({});
    expect(await t.call()).toBe(true);
    expect(sent()).toEqual({
      TableName: 'tbl',
      Key: KEY,
      UpdateExpression: t.update,
      ConditionExpression: t.condition,
      ExpressionAttributeNames: t.names,
      ExpressionAttributeValues: t.values,
    });
  });

  it('reports false when its condition is lost (somebody else acted)', async () => {
    mock.on(UpdateCommand).rejects(lost());
    expect(await t.call()).toBe(false);
  });

  it('throws any other error', async () => {
    mock.on(UpdateCommand).rejects(new Error('throttled'));
    await expect(t.call()).rejects.toThrow('throttled');
  });
});

describe('create', () => {
  it('puts the job only if absent, in the active index while not terminal', async () => {
    mock.on(PutCommand).resolves({});
    await store.create(job);
    const input = mock.commandCalls(PutCommand)[0]!.args[0].input;
    expect(input.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input.Item).toMatchObject({ ...KEY, itemType: 'JOB', typeSort: `${NOW}#j1`, activeKind: 'JOB', activeSort: 'j1' });
  });

  it('refused when the id is taken: StaleStateError carrying the existing job', async () => {
    mock.on(PutCommand).rejects(
      new ConditionalCheckFailedException({
        message: 'x',
        $metadata: {},
        Item: marshall({ ...KEY, ...job, status: 'RUNNING' }),
      }),
    );
    const err = await store.create(job).catch((e: unknown) => e);
    expect(isErrorNamed(err, 'StaleStateError')).toBe(true);
    expect((err as StaleStateError<JobRecord>).current).toMatchObject({ jobId: 'j1', status: 'RUNNING' });
  });
});

describe('beginFinalizeOrRead', () => {
  const finalizeCondition =
    '#status IN (:creating, :running) AND ((#phase = :reduce AND reducesCommitted = numReduces) OR ' +
    '(#phase = :map AND numReduces = :zero AND mapsCommitted = numMaps))';

  it("sends beginFinalize's fenced write, asking for the record either way; won: the record after it", async () => {
    mock.on(UpdateCommand).resolves({ Attributes: { ...KEY, ...job, status: 'RUNNING', phase: 'FINALIZING' } });
    const r = await store.beginFinalizeOrRead('j1', NOW);
    expect(r.won).toBe(true);
    expect(r.job).toMatchObject({ jobId: 'j1', phase: 'FINALIZING' });
    expect(sent()).toEqual({
      TableName: 'tbl',
      Key: KEY,
      UpdateExpression: 'SET #phase = :fin, phaseChangedAt = :now, updatedAt = :now',
      ConditionExpression: finalizeCondition,
      ExpressionAttributeNames: { '#status': 'status', '#phase': 'phase' },
      ExpressionAttributeValues: { ':fin': 'FINALIZING', ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':now': NOW },
      ReturnValues: 'ALL_NEW',
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
  });

  it('refused: not won, with the record as the refusal returned it (as a read would)', async () => {
    mock.on(UpdateCommand).rejects(
      new ConditionalCheckFailedException({ message: 'x', $metadata: {}, Item: marshall({ ...KEY, ...job, status: 'RUNNING', phase: 'REDUCE', reducesCommitted: 0 }) }),
    );
    const r = await store.beginFinalizeOrRead('j1', NOW);
    expect(r.won).toBe(false);
    expect(r.job).toMatchObject({ jobId: 'j1', phase: 'REDUCE', reducesCommitted: 0 });
  });

  it('refused on a missing job: not won, no record', async () => {
    mock.on(UpdateCommand).rejects(lost());
    expect(await store.beginFinalizeOrRead('j1', NOW)).toEqual({ won: false, job: undefined });
  });

  it('throws any other error', async () => {
    mock.on(UpdateCommand).rejects(new Error('throttled'));
    await expect(store.beginFinalizeOrRead('j1', NOW)).rejects.toThrow('throttled');
  });
});
