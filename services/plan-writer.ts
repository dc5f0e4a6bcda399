/**
 * Writing a job's plan (its task records) and sending its map tasks in bounded steps,
 * with progress kept on the job record, so that a job of thousands of map tasks fits the
 * coordinator Lambda (60 s, default memory) and a retried, crashed or timed-out
 * coordinator resumes where the last one stopped instead of starting over.
 *
 *   invocation 1: write 0..999 ✓ planWritten=1000 … 5000..5999 ✓ planWritten=6000, budget spent ✗
 *   SQS redelivers the upload event (PlanIncompleteError → batch item failure)
 *   invocation 2: job CREATING, planWritten=6000 → write 6000.., tasksWritten, send 0.., RUNNING
 *
 * Memory per step is O(PLAN_BATCH) task records; each write is a 100-item transaction
 * and each send a 10-message batch, a few in flight. Task writes never overwrite
 * (TaskStore.putNew), and a message sent twice is deduplicated by the claim.
 */
import { mapDispatchOrder } from '../core/dispatch-order.js';
import { MapReduceError } from '../core/errors.js';
import { type InputSplit, type TaskRecord, taskId } from '../core/model.js';
import { type Services, forEachLimit, iso } from './context.js';
import { taskMessageBody } from './task-lifecycle.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { controlBarrier } from './control-barrier.js';

/** Task records written, or map messages sent, per step (one progress write on the job each). */
export const PLAN_BATCH = 1000;
/** A coordinator stops starting steps after this long (its Lambda times out at 60 s). */
export const PLAN_BUDGET_MS = 40_000;
/** Task records per transaction (DynamoDB's limit) and transactions in flight. */
const WRITE_CHUNK = 100;
const WRITE_CONCURRENCY = 4;
/** Map messages per send call (sent as batches of 10) and send calls in flight. */
const SEND_CHUNK = 50;
const SEND_CONCURRENCY = 8;

/** The plan ran out of its time budget; the redelivered submission resumes it. */
export class PlanIncompleteError extends MapReduceError {
  override readonly name = 'PlanIncompleteError';
}

export interface Plan {
  readonly jobId: string;
  readonly splits: readonly InputSplit[];
  readonly numReduces: number;
  /** The job step (0-based) the tasks belong to (core/steps.ts); absent: the first. */
  readonly step?: number;
}

/** What an earlier coordinator recorded on the job record (absent on a new job). */
export interface PlanResume {
  readonly tasksWritten?: boolean;
  readonly planWritten?: number;
  readonly planSent?: number;
}

/** Task records [from, to) of a plan: the maps in split order, then the reduces. */
export function planTasks(plan: Plan, from: number, to: number): TaskRecord[] {
  const step = plan.step ?? 0;
  const base = { jobId: plan.jobId, status: 'PENDING' as const, attempt: 0, failures: 0, stalls: 0, ...(step > 0 ? { step } : {}) };
  const out: TaskRecord[] = [];
  const maps = plan.splits.length;
  for (let i = from; i < Math.min(to, maps + plan.numReduces); i++) {
    out.push(
      i < maps
        ? { ...base, taskId: taskId('map', i, step), kind: 'map', index: i, split: plan.splits[i] }
        : { ...base, taskId: taskId('reduce', i - maps, step), kind: 'reduce', index: i - maps },
    );
  }
  return out;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/**
 * Write every task record of the plan, then send every map task, largest split first
 * (core/dispatch-order.ts: the map phase's tail is then made of small tasks), resuming from
 * `resume` (`planSent` counts messages in that order, which the splits alone determine).
 * Returns false when the job stopped being CREATING meanwhile (cancelled): nothing more is
 * sent. Throws PlanIncompleteError when `budgetMs` ran out between two steps.
 */
export async function writePlan(
  s: Services,
  plan: Plan,
  resume: PlanResume | undefined,
  budgetMs = PLAN_BUDGET_MS,
  /** Tasks per step; smaller steps keep a short budget short on a slow table or queue. */
  step = PLAN_BATCH,
): Promise<boolean> {
  const started = s.now();
  const checkBudget = (done: string) => {
    if (s.now() - started > budgetMs) {
      throw new PlanIncompleteError(`Planning ${plan.jobId} continues in the next invocation (${done})`, {
        context: { jobId: plan.jobId },
      });
    }
  };
  const maps = plan.splits.length;
  const total = maps + plan.numReduces;
  let written = resume?.tasksWritten ? total : Math.min(total, resume?.planWritten ?? 0);
  while (written < total) {
    checkBudget(`${written}/${total} task records written`);
    const end = Math.min(total, written + step);
    await forEachLimit(chunks(planTasks(plan, written, end), WRITE_CHUNK), WRITE_CONCURRENCY, (c) => s.tasks.putNew(c));
    written = end;
    if (written < total && !(await s.jobs.recordPlanProgress(plan.jobId, 'planWritten', written, iso(s.now())))) {
      return false;
    }
    s.log.info(LOG_EVENTS.planWritten, { jobId: plan.jobId, tasks: written, of: total });
  }
  await controlBarrier('planning');
  if (!resume?.tasksWritten && !(await s.jobs.markTasksWritten(plan.jobId, iso(s.now())))) return false;
  let sent = Math.min(maps, resume?.planSent ?? 0);
  const order = sent < maps ? mapDispatchOrder(plan.splits) : [];
  while (sent < maps) {
    checkBudget(`${sent}/${maps} map tasks sent`);
    const end = Math.min(maps, sent + step);
    const bodies: string[] = [];
    for (let i = sent; i < end; i++) {
      bodies.push(taskMessageBody(plan.jobId, taskId('map', order[i]!)));
    }
    await forEachLimit(chunks(bodies, SEND_CHUNK), SEND_CONCURRENCY, (c) => s.taskQueue.sendAll(c));
    sent = end;
    if (sent < maps && !(await s.jobs.recordPlanProgress(plan.jobId, 'planSent', sent, iso(s.now())))) return false;
    s.log.info(LOG_EVENTS.mapTasksSent, { jobId: plan.jobId, sent, of: maps });
  }
  return true;
}
