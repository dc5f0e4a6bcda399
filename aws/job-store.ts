/**
 * Job record transitions. Each is a conditional write so that concurrent callers
 * (two workers committing the last maps at once, a worker and the checker) act once:
 * the winner gets `true`, everyone else `false`.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StaleStateError } from '../core/errors.js';
import type { JobRecord, JobStatus, StepSummary, TaskRecord } from '../core/model.js';
import type { AwsClients } from './clients.js';
import { newTaskPut } from './task-store.js';
import { ACTIVE_JOB, ACTIVE_TASK, fenced, isConditionFailure, itemToJob, itemToTask, jobKey } from './items.js';

/** The job record is at step `:from` (the first step's record may have no `step`). */
const stepIs = (from: number) => (from === 0 ? '(attribute_not_exists(#step) OR #step = :from)' : '#step = :from');

/** Task records written in the job's own create transaction at most (DynamoDB takes 100 items per transaction). */
export const MAX_TASKS_WITH_JOB = 99;

export class JobStore {
  constructor(
    private readonly c: AwsClients,
    private readonly table: string,
  ) {}

  /** create: a new job record; throws StaleStateError (with the existing job) if the id is taken. */
  async create(job: JobRecord): Promise<void> {
    await fenced(
      () =>
        this.c.doc.send(
          new PutCommand({ ...this.newJobPut(job), ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
        ),
      (current, cause) =>
        new StaleStateError(`Job ${job.jobId} already exists`, current && itemToJob(current), { cause }),
    );
  }

  /**
   * Create a job and all its task records in one transaction (at most MAX_TASKS_WITH_JOB
   * tasks), the record marked `tasksWritten` from the start: two round trips less than
   * create, put the tasks, mark them written. Throws StaleStateError when the job or any of
   * its tasks exists already (nothing is written then).
   */
  async createWithTasks(job: JobRecord, tasks: readonly TaskRecord[]): Promise<void> {
    if (tasks.length > MAX_TASKS_WITH_JOB) throw new Error(`createWithTasks: ${tasks.length} tasks, at most ${MAX_TASKS_WITH_JOB}`);
    const puts = [this.newJobPut({ ...job, tasksWritten: true }), ...tasks.map((t) => newTaskPut(this.table, t))];
    await fenced(
      () => this.c.doc.send(new TransactWriteCommand({ TransactItems: puts.map((Put) => ({ Put })) })),
      (_current, cause) => new StaleStateError(`Job ${job.jobId} or one of its tasks already exists`, undefined, { cause }),
    );
  }

  private newJobPut(job: JobRecord) {
    return {
      TableName: this.table,
      Item: {
        ...jobKey(job.jobId),
        itemType: 'JOB',
        typeSort: `${job.createdAt}#${job.jobId}`,
        ...(isTerminal(job.status) ? {} : { activeKind: ACTIVE_JOB, activeSort: job.jobId }),
        ...job,
      },
      ConditionExpression: 'attribute_not_exists(pk)',
    };
  }

  async get(jobId: string, consistent = true): Promise<JobRecord | undefined> {
    const out = await this.c.doc.send(
      new GetCommand({ TableName: this.table, Key: jobKey(jobId), ConsistentRead: consistent }),
    );
    return out.Item ? itemToJob(out.Item) : undefined;
  }

  /** A guarded update: returns false when the condition no longer holds (somebody else acted). */
  private async transition(
    jobId: string,
    update: string,
    condition: string,
    values: Record<string, unknown>,
    names: Record<string, string> = {},
  ): Promise<boolean> {
    try {
      await this.c.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: jobKey(jobId),
          UpdateExpression: update,
          ConditionExpression: condition,
          // DynamoDB rejects unused names, so pass only those the expressions mention.
          ExpressionAttributeNames: Object.fromEntries(
            Object.entries({ '#status': 'status', '#phase': 'phase', ...names }).filter(
              ([k]) => update.includes(k) || condition.includes(k),
            ),
          ),
          ExpressionAttributeValues: values,
        }),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Coordinator: task records are written; a retried coordinator skips rewriting them. */
  markTasksWritten(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, 'SET tasksWritten = :t, updatedAt = :now', '#status = :creating', {
      ':t': true,
      ':now': now,
      ':creating': 'CREATING',
    });
  }

  /** Coordinator: how far a large plan got (services/plan-writer.ts), so a retried coordinator resumes there. */
  recordPlanProgress(jobId: string, field: 'planWritten' | 'planSent', done: number, now: string): Promise<boolean> {
    return this.transition(jobId, `SET ${field} = :done, updatedAt = :now`, '#status = :creating', {
      ':done': done,
      ':now': now,
      ':creating': 'CREATING',
    });
  }

  /** Coordinator: all map tasks are sent; CREATING → RUNNING. */
  markRunning(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, 'SET #status = :running, startedAt = :now, updatedAt = :now', '#status = :creating', {
      ':running': 'RUNNING',
      ':creating': 'CREATING',
      ':now': now,
    });
  }

  /**
   * Start the reduce phase exactly once: MAP → REDUCE, only when every map committed.
   *
   *   worker A commits m-7 (7/8) ──┐
   *   worker B commits m-8 (8/8) ──┼─ both read 8/8, both call this
   *                                └─ one write wins (phase = MAP held for one), one sends reduce tasks
   */
  startReducePhase(jobId: string, now: string): Promise<boolean> {
    return this.transition(
      jobId,
      'SET #phase = :reduce, phaseChangedAt = :now, updatedAt = :now',
      '#status IN (:creating, :running) AND #phase = :map AND mapsCommitted = numMaps AND numReduces > :zero',
      { ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':now': now },
    );
  }

  /**
   * Release step `step`'s reduce tasks before its map phase ends (reduce slow-start), exactly
   * once: only in the map phase, only when at least `threshold` maps committed (the caller
   * computes ceil(f × M), core/slow-start.ts), only if not released yet.
   *
   *   worker A commits m-2 (2/8, threshold 2) ──┐
   *   checker sweep reads 2/8 ──────────────────┼─ both call this
   *                                             └─ one write wins (reduceReleasedAt unset for one), one sends the reduces
   */
  releaseReduces(jobId: string, step: number, threshold: number, now: string): Promise<boolean> {
    return this.transition(
      jobId,
      'SET reduceReleasedAt = :now, updatedAt = :now',
      `#status IN (:creating, :running) AND #phase = :map AND ${stepIs(step)} AND attribute_not_exists(reduceReleasedAt) ` +
        'AND numReduces > :zero AND mapsCommitted >= :threshold',
      { ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':threshold': threshold, ':from': step, ':now': now },
      { '#step': 'step' },
    );
  }

  /** The reduce tasks were sent: after the phase change, or after an early release. */
  markReduceEnqueued(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, 'SET reduceEnqueuedAt = :now', '#phase = :reduce OR (#phase = :map AND attribute_exists(reduceReleasedAt))', {
      ':reduce': 'REDUCE',
      ':map': 'MAP',
      ':now': now,
    });
  }

  /**
   * Enter FINALIZING once all output tasks committed (reduces, or maps of a map-only job).
   * Only one caller wins; a crashed finisher is resumed by the checker (FINALIZING is
   * idempotent: it only copies committed parts and writes _SUCCESS).
   */
  beginFinalize(jobId: string, now: string): Promise<boolean> {
    return this.transition(
      jobId,
      'SET #phase = :fin, phaseChangedAt = :now, updatedAt = :now',
      '#status IN (:creating, :running) AND ((#phase = :reduce AND reducesCommitted = numReduces) OR ' +
        '(#phase = :map AND numReduces = :zero AND mapsCommitted = numMaps))',
      { ':fin': 'FINALIZING', ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':now': now },
    );
  }

  /**
   * Leave a finished intermediate step exactly once: MAP/REDUCE → STEPPING, only when every
   * output task of step `from` committed (services/step-change.ts). Like beginFinalize:
   * one winner plans the next step; the checker resumes a STEPPING job whose planner died.
   */
  beginStepChange(jobId: string, from: number, now: string): Promise<boolean> {
    return this.transition(
      jobId,
      'SET #phase = :stepping, phaseChangedAt = :now, updatedAt = :now',
      `#status IN (:creating, :running) AND ${stepIs(from)} AND ((#phase = :reduce AND reducesCommitted = numReduces) OR ` +
        '(#phase = :map AND numReduces = :zero AND mapsCommitted = numMaps))',
      { ':stepping': 'STEPPING', ':reduce': 'REDUCE', ':map': 'MAP', ':running': 'RUNNING', ':creating': 'CREATING', ':zero': 0, ':from': from, ':now': now },
      { '#step': 'step' },
    );
  }

  /**
   * STEPPING (step `from`) → MAP of step `from + 1`, with its task counts, once its task
   * records are written. The one write that makes the next step current: of two planners
   * (a worker and the checker resuming it) only one wins; the loser sends nothing.
   */
  enterStep(jobId: string, from: number, next: { numMaps: number; numReduces: number; done: StepSummary }, now: string): Promise<boolean> {
    return this.transition(
      jobId,
      'SET #step = :next, #phase = :map, numMaps = :maps, numReduces = :reduces, mapsCommitted = :zero, reducesCommitted = :zero, ' +
        'stepsDone = list_append(if_not_exists(stepsDone, :empty), :done), phaseChangedAt = :now, updatedAt = :now ' +
        'REMOVE reduceEnqueuedAt, reduceReleasedAt, mapEnqueuedAt, splitPoints',
      `#status IN (:creating, :running) AND #phase = :stepping AND ${stepIs(from)}`,
      {
        ':next': from + 1,
        ':map': 'MAP',
        ':maps': next.numMaps,
        ':reduces': next.numReduces,
        ':zero': 0,
        ':empty': [],
        ':done': [next.done],
        ':stepping': 'STEPPING',
        ':running': 'RUNNING',
        ':creating': 'CREATING',
        ':from': from,
        ':now': now,
      },
      { '#step': 'step' },
    );
  }

  /** A later step's map tasks are sent (the checker resends them while this is unset). */
  markMapEnqueued(jobId: string, step: number, now: string): Promise<boolean> {
    return this.transition(jobId, 'SET mapEnqueuedAt = :now', `#phase = :map AND #step = :step`, { ':map': 'MAP', ':step': step, ':now': now }, { '#step': 'step' });
  }

  succeed(jobId: string, now: string): Promise<boolean> {
    return this.transition(
      jobId,
      'SET #status = :succeeded, #phase = :done, finishedAt = :now, updatedAt = :now REMOVE activeKind, activeSort',
      '#status IN (:creating, :running) AND #phase = :fin',
      { ':succeeded': 'SUCCEEDED', ':done': 'DONE', ':running': 'RUNNING', ':creating': 'CREATING', ':fin': 'FINALIZING', ':now': now },
    );
  }

  /**
   * FAILED or CANCELLED, from any non-terminal status, with a human-readable reason. A cancel
   * is refused once the job is FINALIZING, so cancel and the finisher fence on each other:
   *
   *   cancel ✓ (phase REDUCE) ──▶ beginFinalize ✗ (status CANCELLED): no parts copied, no _SUCCESS
   *   beginFinalize ✓ (phase FINALIZING) ──▶ cancel ✗ ("finishing") ──▶ _SUCCESS, SUCCEEDED
   *
   * Either the job succeeds with _SUCCESS or it is cancelled without it, never both.
   */
  end(jobId: string, status: 'FAILED' | 'CANCELLED', reason: string, now: string): Promise<boolean> {
    const cancel = status === 'CANCELLED';
    return this.transition(
      jobId,
      'SET #status = :status, reason = :reason, finishedAt = :now, updatedAt = :now REMOVE activeKind, activeSort',
      cancel ? '#status IN (:creating, :running) AND #phase <> :fin' : '#status IN (:creating, :running)',
      {
        ':status': status,
        ':reason': reason,
        ':now': now,
        ':creating': 'CREATING',
        ':running': 'RUNNING',
        ...(cancel ? { ':fin': 'FINALIZING' } : {}),
      },
    );
  }

  /** Count failed and retried attempts (not tied to a commit, so counted as they happen). */
  async addCounters(jobId: string, counters: Record<string, number>, statusMessage?: string): Promise<void> {
    const entries = Object.entries(counters).filter(([, v]) => v !== 0);
    if (entries.length === 0 && statusMessage === undefined) return;
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const adds = entries.map(([name, v], i) => {
      names[`#c${i}`] = name;
      values[`:c${i}`] = v;
      return `counters.#c${i} :c${i}`;
    });
    if (statusMessage !== undefined) values[':msg'] = statusMessage.slice(0, 1000);
    await this.c.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: jobKey(jobId),
        UpdateExpression: [
          adds.length ? `ADD ${adds.join(', ')}` : '',
          statusMessage !== undefined ? 'SET statusMessage = :msg' : '',
        ]
          .filter(Boolean)
          .join(' '),
        ExpressionAttributeNames: Object.keys(names).length ? names : undefined,
        ExpressionAttributeValues: values,
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  }

  /** Active jobs (sparse index): what the checker looks at. */
  async listActive(): Promise<JobRecord[]> {
    return (await this.queryActive(ACTIVE_JOB)).map(itemToJob);
  }

  /** Running or requeued tasks of all jobs (sparse index). */
  async listActiveTasks(): Promise<TaskRecord[]> {
    return (await this.queryActive(ACTIVE_TASK)).map(itemToTask);
  }

  private async queryActive(kind: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.c.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'active',
          KeyConditionExpression: 'activeKind = :k',
          ExpressionAttributeValues: { ':k': kind },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Most recent jobs first. */
  async listRecent(limit: number): Promise<JobRecord[]> {
    const out = await this.c.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: 'byType',
        KeyConditionExpression: 'itemType = :t',
        ExpressionAttributeValues: { ':t': 'JOB' },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map(itemToJob);
  }
}

export function isTerminal(status: JobStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';
}
