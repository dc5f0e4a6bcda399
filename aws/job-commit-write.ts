/**
 * The job half of a task's commit transaction (aws/task-store.ts, aws/backup-store.ts):
 * the job record's count of committed tasks, the attempt's counters and the phase's
 * committed-attempt sums, written in the same transaction as the task half's fenced write
 * (aws/task-writes.ts), so only the winning commit of a task adds, once.
 */
import { type AttemptEntry, COMMITTED_STATS } from '../core/model.js';
import { isMapTaskId } from '../core/steps.js';
import type { TaskWrite } from './task-writes.js';

/** What the winning attempt adds to its phase's sums on the job record (core/speculation.ts CommittedStats). */
export interface CommittedAttempt {
  /** Claim to commit (ms). */
  readonly durationMs: number;
  /** Map: input bytes read; reduce: shuffle bytes merged (0 when not reported). */
  readonly inputBytes: number;
}

/** The committed attempt's duration and bytes, as its history entry records them. */
export function committedAttempt(entry: AttemptEntry): CommittedAttempt {
  return { durationMs: Math.max(0, entry.endedAt - entry.startedAt), inputBytes: entry.inputBytes ?? 0 };
}

/**
 * The job half of the commit transaction: one more committed task, the attempt's
 * counters, and the attempt added to its phase's sums (count, duration, duration², bytes:
 * the speculation's reference, so the checker never lists the phase's tasks). CREATING
 * too: map tasks are sent before the coordinator marks the job RUNNING. It goes with the
 * task half's fence, so only the winning commit of a task adds, once: a lost response
 * sent again, a superseded primary, a backup that lost all fail that fence.
 */
export function jobCommitWrite(taskId: string, counters: Record<string, number>, attempt: CommittedAttempt): TaskWrite {
  const isMap = isMapTaskId(taskId);
  const kind = isMap ? 'mapsCommitted' : 'reducesCommitted';
  const stats = COMMITTED_STATS[isMap ? 'map' : 'reduce'];
  // DynamoDB rejects unused names: '#counters' only when a counter is added (an empty reduce has none).
  const names: Record<string, string> = {
    '#done': kind,
    '#status': 'status',
    '#statN': stats.count,
    '#statMs': stats.ms,
    '#statMsSq': stats.msSq,
    '#statBytes': stats.bytes,
  };
  const values: Record<string, unknown> = {
    ':one': 1,
    ':runningJob': 'RUNNING',
    ':creatingJob': 'CREATING',
    ':ms': attempt.durationMs,
    ':msSq': attempt.durationMs * attempt.durationMs,
    ':bytes': attempt.inputBytes,
  };
  const adds = Object.entries(counters)
    .filter(([, v]) => v !== 0)
    .map(([name, v], i) => {
      names['#counters'] = 'counters';
      names[`#c${i}`] = name;
      values[`:c${i}`] = v;
      return `#counters.#c${i} :c${i}`;
    });
  return {
    UpdateExpression: `ADD #done :one, #statN :one, #statMs :ms, #statMsSq :msSq, #statBytes :bytes${adds.length ? `, ${adds.join(', ')}` : ''}`,
    ConditionExpression: '#status IN (:creatingJob, :runningJob)',
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}
