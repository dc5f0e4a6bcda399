/**
 * Job record transitions. Each is a conditional write (built in aws/job-writes.ts) so that
 * concurrent callers (two workers committing the last maps at once, a worker and the
 * checker) act once: the winner gets `true`, everyone else `false`.
 */
import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StaleStateError } from '../core/errors.js';
import type { JobRecord, JobStatus, TaskRecord } from '../core/model.js';
import type { AwsClients } from './clients.js';
import { newTaskPut } from './task-store.js';
import { ACTIVE_JOB, ACTIVE_TASK, fenced, isConditionFailure, itemToJob, itemToTask, jobKey } from './items.js';
import {
  endWrite,
  enterStepWrite,
  finalizeWrite,
  type JobWrite,
  mapEnqueuedWrite,
  type NextStep,
  planProgressWrite,
  reduceEnqueuedWrite,
  reducePhaseWrite,
  releaseReducesWrite,
  runningWrite,
  stepChangeWrite,
  succeedWrite,
  tasksWrittenWrite,
} from './job-writes.js';
import { queryAll } from './query-all.js';

/** Task records written in the job's own create transaction at most (DynamoDB takes 100 items per transaction). */
export const MAX_TASKS_WITH_JOB = 99;

/** The job records of the state table: create, read, list, and every guarded transition. */
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

  /** The UpdateItem input of a guarded job write. */
  private updateInput(jobId: string, { update, condition, values, names = {} }: JobWrite) {
    return {
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
    };
  }

  /** A guarded update: returns false when the condition no longer holds (somebody else acted). */
  private async transition(jobId: string, write: JobWrite): Promise<boolean> {
    try {
      await this.c.doc.send(new UpdateCommand(this.updateInput(jobId, write)));
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Coordinator: task records are written; a retried coordinator skips rewriting them. */
  markTasksWritten(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, tasksWrittenWrite(now));
  }

  /** Coordinator: how far a large plan got (services/plan-writer.ts), so a retried coordinator resumes there. */
  recordPlanProgress(jobId: string, field: 'planWritten' | 'planSent', done: number, now: string): Promise<boolean> {
    return this.transition(jobId, planProgressWrite(field, done, now));
  }

  /** Coordinator: all map tasks are sent; CREATING → RUNNING. */
  markRunning(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, runningWrite(now));
  }

  /** Start the reduce phase exactly once: MAP → REDUCE, only when every map committed (reducePhaseWrite). */
  startReducePhase(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, reducePhaseWrite(now));
  }

  /** Release step `step`'s reduce tasks before its map phase ends (reduce slow-start), exactly once (releaseReducesWrite). */
  releaseReduces(jobId: string, step: number, threshold: number, now: string): Promise<boolean> {
    return this.transition(jobId, releaseReducesWrite(step, threshold, now));
  }

  /** The reduce tasks were sent: after the phase change, or after an early release. */
  markReduceEnqueued(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, reduceEnqueuedWrite(now));
  }

  /** Enter FINALIZING once all output tasks committed; only one caller wins (finalizeWrite). */
  beginFinalize(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, finalizeWrite(now));
  }

  /**
   * beginFinalize for the committer of an output task of a job's last step, in place of
   * reading the job and then taking the guard (one call less per job): the same guarded
   * write (finalizeWrite), which also answers with the record. `won`: this caller entered
   * FINALIZING, `job` is the record after the write. Otherwise `job` is the record as it
   * stood when the condition was evaluated (a strongly consistent read of it, returned by
   * the refusal), undefined when there is no such job.
   */
  async beginFinalizeOrRead(jobId: string, now: string): Promise<{ readonly won: boolean; readonly job: JobRecord | undefined }> {
    try {
      const out = await fenced(
        () =>
          this.c.doc.send(
            new UpdateCommand({ ...this.updateInput(jobId, finalizeWrite(now)), ReturnValues: 'ALL_NEW', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
          ),
        (current, cause) => new StaleStateError(`Job ${jobId} is not ready to finalize`, current && itemToJob(current), { cause }),
      );
      return { won: true, job: out.Attributes ? itemToJob(out.Attributes) : undefined };
    } catch (err) {
      if (err instanceof StaleStateError) return { won: false, job: err.current as JobRecord | undefined };
      throw err;
    }
  }

  /** Leave a finished intermediate step exactly once: MAP/REDUCE → STEPPING (stepChangeWrite). */
  beginStepChange(jobId: string, from: number, now: string): Promise<boolean> {
    return this.transition(jobId, stepChangeWrite(from, now));
  }

  /** STEPPING (step `from`) → MAP of step `from + 1`, with its task counts; one planner wins (enterStepWrite). */
  enterStep(jobId: string, from: number, next: NextStep, now: string): Promise<boolean> {
    return this.transition(jobId, enterStepWrite(from, next, now));
  }

  /** A later step's map tasks are sent (the checker resends them while this is unset). */
  markMapEnqueued(jobId: string, step: number, now: string): Promise<boolean> {
    return this.transition(jobId, mapEnqueuedWrite(step, now));
  }

  /** FINALIZING → SUCCEEDED. */
  succeed(jobId: string, now: string): Promise<boolean> {
    return this.transition(jobId, succeedWrite(now));
  }

  /** FAILED or CANCELLED with a reason; a cancel is refused once FINALIZING (endWrite). */
  end(jobId: string, status: 'FAILED' | 'CANCELLED', reason: string, now: string): Promise<boolean> {
    return this.transition(jobId, endWrite(status, reason, now));
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

  private queryActive(kind: string): Promise<Record<string, unknown>[]> {
    return queryAll(this.c, {
      TableName: this.table,
      IndexName: 'active',
      KeyConditionExpression: 'activeKind = :k',
      ExpressionAttributeValues: { ':k': kind },
    });
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

/** True for SUCCEEDED, FAILED and CANCELLED: nothing changes a job after these. */
export function isTerminal(status: JobStatus): boolean {
  return status === 'SUCCEEDED' || status === 'FAILED' || status === 'CANCELLED';
}
