/**
 * Key schema of the state table and the mapping between items and records.
 * See core/resources.ts for the table and docs/architecture.md for the layout.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { z } from 'zod';
import { InvalidRecordError, type StaleStateError } from '../core/errors.js';
import type { Manifest } from '../core/manifest.js';
import type { JobRecord, TaskRecord, WorkerRecord } from '../core/model.js';
import { indexOfTaskId, isMapTaskId } from '../core/steps.js';

export const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: 'JOB' });
export const taskKey = (jobId: string, taskId: string) => ({ pk: `JOB#${jobId}`, sk: `TASK#${taskId}` });
/** A committed map's output item (MapOutputItem): beside its task, in the job's partition. */
export const mapOutputKey = (jobId: string, taskId: string) => ({ pk: `JOB#${jobId}`, sk: `MAPOUT#${taskId}` });
export const workerKey = (workerId: string) => ({ pk: `WORKER#${workerId}`, sk: 'WORKER' });
export const guardKey = (name: string) => ({ pk: `GUARD#${name}`, sk: 'GUARD' });

/** Values of `activeKind` in the sparse `active` index. */
export const ACTIVE_JOB = 'JOB';
export const ACTIVE_TASK = 'TASK';

type Item = Record<string, unknown>;

const KEY_ATTRS = ['pk', 'sk', 'itemType', 'typeSort', 'activeKind', 'activeSort', 'expiresAt'];

function stripKeys(item: Item): Item {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!KEY_ATTRS.includes(k)) out[k] = v;
  return out;
}

const num = z.number();
const JobStatusSchema = z.enum(['CREATING', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED']);

/**
 * The stored shapes. Objects are loose (`z.looseObject`) so that an item written by a newer
 * version with one more attribute still reads; a missing or mistyped field is an error.
 * The manifest was validated when the job was accepted and is taken as stored.
 */
const JobSchema = z.looseObject({
  jobId: z.string(),
  status: JobStatusSchema,
  phase: z.enum(['MAP', 'REDUCE', 'STEPPING', 'FINALIZING', 'DONE']),
  step: num.optional(),
  stepsDone: z.array(z.looseObject({ numMaps: num, numReduces: num, finishedAt: z.string(), counters: z.record(z.string(), num).optional() })).optional(),
  mapEnqueuedAt: z.string().optional(),
  manifest: z.custom<Manifest>((v) => typeof v === 'object' && v !== null).optional(),
  numMaps: num,
  numReduces: num,
  mapsCommitted: num,
  reducesCommitted: num,
  inputBytes: num,
  counters: z.record(z.string(), num),
  createdAt: z.string(),
  updatedAt: z.string(),
  finishedAt: z.string().optional(),
  reason: z.string().optional(),
  statusMessage: z.string().optional(),
  reduceEnqueuedAt: z.string().optional(),
  reduceReleasedAt: z.string().optional(),
  phaseChangedAt: z.string().optional(),
  tasksWritten: z.boolean().optional(),
  startedAt: z.string().optional(),
  // The committed-attempt sums (core/model.ts COMMITTED_STATS).
  mapStatCount: num.optional(),
  mapStatMs: num.optional(),
  mapStatMsSq: num.optional(),
  mapStatBytes: num.optional(),
  reduceStatCount: num.optional(),
  reduceStatMs: num.optional(),
  reduceStatMsSq: num.optional(),
  reduceStatBytes: num.optional(),
});

const AttemptEntrySchema = z.looseObject({
  attempt: num,
  worker: z.string(),
  startedAt: num,
  endedAt: num,
  outcome: z.enum(['committed', 'failed', 'reclaimed', 'released', 'cancelled', 'superseded']),
  reason: z.string().optional(),
  backup: z.boolean().optional(),
  inputBytes: num.optional(),
  outputBytes: num.optional(),
  requests: z.record(z.string(), num).optional(),
});

const TaskSchema = z.looseObject({
  jobId: z.string(),
  taskId: z.string(),
  kind: z.enum(['map', 'reduce']),
  index: num,
  step: num.optional(),
  status: z.enum(['PENDING', 'RUNNING', 'COMMITTED', 'FAILED', 'CANCELLED']),
  attempt: num,
  failures: num,
  stalls: num,
  owner: z.string().optional(),
  claimedAt: num.optional(),
  leaseExpiresAt: num.optional(),
  committedAt: num.optional(),
  split: z
    .looseObject({ bucket: z.string(), key: z.string(), start: num, end: num, objectSize: num, gzip: z.boolean() })
    .optional(),
  output: z.looseObject({ key: z.string(), offsets: z.array(num), format: z.literal('counted').optional() }).optional(),
  committedAttempt: num.optional(),
  lastError: z.string().optional(),
  requeuedAt: num.optional(),
  redrives: num.optional(),
  jobEnded: z.string().optional(),
  history: z.array(AttemptEntrySchema).optional(),
  progress: num.optional(),
  progressTotal: num.optional(),
  progressAt: num.optional(),
  backupAttempt: num.optional(),
  backupPostedAt: num.optional(),
  backupOwner: z.string().optional(),
  backupLeaseExpiresAt: num.optional(),
  backupProgress: num.optional(),
  backupClaimedAt: num.optional(),
  backupEndedAt: num.optional(),
});

const WorkerSchema = z.looseObject({
  workerId: z.string(),
  heartbeatAt: num,
  startedAt: num,
  host: z.string(),
  runningTask: z.string().optional(),
  runningAttempt: num.optional(),
});

function parse<T>(schema: z.ZodType<T>, kind: string, item: Item): T {
  const r = schema.safeParse(stripKeys(item));
  if (r.success) return r.data;
  const keyText = (v: unknown) => (typeof v === 'string' ? v : '?');
  const where = `${keyText(item.pk)}/${keyText(item.sk)}`;
  throw new InvalidRecordError(
    `Stored ${kind} item ${where} is malformed: ${r.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ')}`,
    { context: { pk: item.pk, sk: item.sk } },
  );
}

export function itemToJob(item: Item): JobRecord {
  return parse(JobSchema, 'job', item);
}

export function itemToTask(item: Item): TaskRecord {
  return parse(TaskSchema, 'task', item);
}

/** What a reducer reads of a map task: which attempt's object holds its output, and where. */
export type MapOutputRef = Pick<TaskRecord, 'taskId' | 'index' | 'status' | 'output'>;

const MapOutputSchema = TaskSchema.pick({ taskId: true, index: true, status: true, output: true });

/**
 * The item a map commit writes beside its task, in the same transaction (aws/task-store.ts
 * `commit`): what a reducer reads of the map, and nothing else (~250 bytes at R = 4 against
 * ~1.1 KB for the task item with its attempt history). DynamoDB's 1 MB page counts whole
 * items, so a reducer lists 2,048 of these in one page where the task items took two or
 * three. Written once, with the commit that makes the attempt final, so it always names the
 * committed attempt's object (exactly-once: worker/map-output-watch.ts).
 */
export function mapOutputItem(jobId: string, taskId: string, output: { readonly key: string; readonly offsets: readonly number[] }): Item {
  return { ...mapOutputKey(jobId, taskId), itemType: 'MAPOUT', taskId, index: indexOfTaskId(taskId), status: 'COMMITTED', output };
}

/** The Put of a map commit's output item, for its transaction (none for a reduce, or a map without output). */
export function mapOutputPut(table: string, taskId: string, jobId: string, output: { readonly key: string; readonly offsets: readonly number[] } | undefined) {
  return output && isMapTaskId(taskId) ? [{ Put: { TableName: table, Item: mapOutputItem(jobId, taskId, output) } }] : [];
}

/** The attributes of a task item that make a MapOutputRef (a ProjectionExpression). */
export const MAP_OUTPUT_PROJECTION = { expression: '#t, #i, #s, #o', names: { '#t': 'taskId', '#i': 'index', '#s': 'status', '#o': 'output' } } as const;

export function itemToMapOutput(item: Item): MapOutputRef {
  return parse(MapOutputSchema, 'task', item);
}

export function itemToWorker(item: Item): WorkerRecord {
  return parse(WorkerSchema, 'worker', item);
}

/** The current item DynamoDB returned with a failed condition, if any. */
function currentItemOf(err: unknown): Item | undefined {
  if (err instanceof ConditionalCheckFailedException) return err.Item as Item | undefined;
  if (err instanceof TransactionCanceledException) {
    const reason = err.CancellationReasons?.find((r) => r.Code === 'ConditionalCheckFailed');
    return reason?.Item as Item | undefined;
  }
  return undefined;
}

/** True for a lost condition, in a single write or in a transaction. */
export function isConditionFailure(err: unknown): boolean {
  if (err instanceof ConditionalCheckFailedException) return true;
  if (err instanceof TransactionCanceledException) {
    return err.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed') ?? false;
  }
  return (err as Error)?.name === 'ConditionalCheckFailedException';
}

/**
 * Run a conditional write; a lost condition becomes the domain error `make`
 * builds from the current item (unmarshalled when the SDK returned raw values).
 */
export async function fenced<T>(
  write: () => Promise<T>,
  make: (current: Item | undefined, cause: unknown) => StaleStateError,
): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (!isConditionFailure(err)) throw err;
    const raw = currentItemOf(err);
    throw make(raw && isMarshalled(raw) ? unmarshall(raw as never) : raw, err);
  }
}

/** Items in a transaction's cancellation reasons come back in DynamoDB's wire format. */
function isMarshalled(item: Item): boolean {
  const pk = item.pk as { S?: unknown } | undefined;
  return typeof pk === 'object' && pk !== null && typeof pk.S === 'string';
}
