/**
 * The reads of task items: a job's tasks (whole or projected), one task, and the map
 * outputs a reducer fetches, all consistent. TaskStore (aws/task-store.ts) adds the
 * transitions on top; the two share the clients and the table.
 */
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { TaskRecord } from '../core/model.js';
import { stepTaskPrefix } from '../core/steps.js';
import type { AwsClients } from './clients.js';
import { itemToMapOutput, itemToTask, jobKey, MAP_OUTPUT_PROJECTION, mapOutputKey, type MapOutputRef, taskKey } from './items.js';
import { queryAll } from './query-all.js';

export class TaskReads {
  constructor(
    protected readonly c: AwsClients,
    protected readonly table: string,
  ) {}

  /** All tasks of a job (consistent), or those of one kind of one step (core/steps.ts; default the first). */
  async list(jobId: string, kind?: 'map' | 'reduce', step = 0): Promise<TaskRecord[]> {
    return (await queryAll(this.c, this.tasksQuery(jobId, kind ? `${stepTaskPrefix(step)}${kind[0]}-` : ''))).map(itemToTask);
  }

  /** Every task item of a job whose id starts with `prefix`, consistently read. */
  private tasksQuery(jobId: string, prefix: string) {
    return {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      ExpressionAttributeValues: { ':pk': jobKey(jobId).pk, ':sk': `TASK#${prefix}` },
      ConsistentRead: true,
    };
  }

  /**
   * The committed map outputs of a step, as a reducer reads them: the small items each map
   * commit writes beside its task (aws/items.ts `mapOutputItem`), consistently read. Each
   * reducer reads all M: one page at M = 2,048 (the task items, ~1.1 KB each with their
   * attempt history, took two, and made the reducer's heap grow with M).
   */
  async listMapOutputs(jobId: string, step = 0): Promise<MapOutputRef[]> {
    const { expression, names } = MAP_OUTPUT_PROJECTION;
    const query = {
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      ExpressionAttributeValues: { ':pk': jobKey(jobId).pk, ':sk': mapOutputKey(jobId, `${stepTaskPrefix(step)}m-`).sk },
      ConsistentRead: true,
      ProjectionExpression: expression,
      ExpressionAttributeNames: names,
    };
    return (await queryAll(this.c, query)).map(itemToMapOutput);
  }

  /**
   * The map tasks of a step, whatever their state, with the same fields as a map output:
   * for an early reducer that looks for maps nobody runs (worker/map-output-watch.ts).
   */
  async listMapTasks(jobId: string, step = 0): Promise<MapOutputRef[]> {
    const { expression, names } = MAP_OUTPUT_PROJECTION;
    const query = { ...this.tasksQuery(jobId, `${stepTaskPrefix(step)}m-`), ProjectionExpression: expression, ExpressionAttributeNames: names };
    return (await queryAll(this.c, query)).map(itemToMapOutput);
  }

  /** One task (consistent read), or undefined. */
  async get(jobId: string, taskId: string): Promise<TaskRecord | undefined> {
    const out = await this.c.doc.send(
      new GetCommand({ TableName: this.table, Key: taskKey(jobId, taskId), ConsistentRead: true }),
    );
    return out.Item ? itemToTask(out.Item) : undefined;
  }

  /** Every task of a job as id and status only (consistent): what a job's end needs. */
  async listStatuses(jobId: string): Promise<Pick<TaskRecord, 'taskId' | 'status'>[]> {
    const query = { ...this.tasksQuery(jobId, ''), ProjectionExpression: '#t, #s', ExpressionAttributeNames: { '#t': 'taskId', '#s': 'status' } };
    return (await queryAll(this.c, query)).map((i) => ({ taskId: String(i.taskId), status: i.status as TaskRecord['status'] }));
  }
}
