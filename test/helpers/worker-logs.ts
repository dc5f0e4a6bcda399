/**
 * The workers' structured logs in tests: the records of one worker or attempt, matched on
 * the exported event names (core/log-events.ts), and the logs saved when a job hangs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LogEvent } from '../../core/log-events.js';
import type { JobRecord } from '../../core/model.js';
import { REPO, type TestStack } from './stack.js';

/** One structured log line of a worker. */
export interface LogRecord {
  readonly level: string;
  readonly message: string;
  readonly workerId?: string;
  /** The worker holding the attempt (on the lines of one attempt). */
  readonly owner?: string;
  readonly jobId?: string;
  readonly taskId?: string;
  readonly attempt?: number;
  readonly [field: string]: unknown;
}

/** Parse JSON log lines (other lines are skipped). */
export function parseLogRecords(text: string): LogRecord[] {
  return text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogRecord);
}

/** The log records of the stack's workers that match every field given (e.g. one attempt's). */
export function workerLogRecords(t: TestStack, match: Partial<Pick<LogRecord, 'jobId' | 'taskId' | 'attempt' | 'owner' | 'workerId'>> = {}): LogRecord[] {
  return parseLogRecords(t.workerLogs()).filter((r) =>
    Object.entries(match).every(([k, v]) => v === undefined || r[k] === v),
  );
}

/** The event names, in order, of the records given. */
export const eventsOf = (records: readonly LogRecord[]): LogEvent[] => records.map((r) => r.message as LogEvent);


/**
 * t.waitForJob, but a timeout reports the job's tasks and the workers' warnings, and
 * saves the full worker logs to test-results/ so a hang can be diagnosed.
 */
export async function finish(t: TestStack, jobId: string, timeoutMs = 90_000): Promise<JobRecord> {
  try {
    return await t.waitForJob(jobId, timeoutMs);
  } catch (err) {
    const tasks = await t.s.tasks.list(jobId).catch(() => []);
    const file = path.join(REPO, 'test-results', `fault-${jobId}-workers.log`);
    writeFileSync(file, t.workerLogs());
    const warnings = t
      .workerLogs()
      .split('\n')
      .filter((l) => /"level":"(WARN|ERROR)"/.test(l))
      .slice(-20);
    const brief = tasks.map((x) => ({
      taskId: x.taskId,
      status: x.status,
      attempt: x.attempt,
      owner: x.owner,
      claimedAt: x.claimedAt,
      leaseExpiresAt: x.leaseExpiresAt,
      stalls: x.stalls,
      failures: x.failures,
    }));
    throw new Error(
      `${(err as Error).message}\nnow=${Date.now()}\ntasks: ${JSON.stringify(brief)}\nworkers: ${JSON.stringify(
        await t.s.workers.list().catch(() => []),
      )}\nlast warnings:\n${warnings.join('\n')}\nworker logs: ${file}`,
      { cause: err },
    );
  }
}

/** Save the stack's worker logs to test-results/fault-<name>.log (for diagnosing a failed or slow run). */
export function saveWorkerLogs(t: TestStack | undefined, name: string): void {
  if (!t) return;
  try {
    writeFileSync(path.join(REPO, 'test-results', `fault-${name}.log`), t.workerLogs());
  } catch {
    // diagnostics only
  }
}
