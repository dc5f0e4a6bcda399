/** How `mapreduce status` shows a job's speculative backup attempts. */
import type { TaskRecord } from '../core/model.js';

export interface BackupView {
  readonly taskId: string;
  readonly attempt: number;
  /** posted, running, won, or how the backup ended (superseded, failed, reclaimed...). */
  readonly state: string;
  readonly worker?: string;
}

/** One view per task that got a backup, in task order. */
export function backupsOf(tasks: readonly TaskRecord[]): BackupView[] {
  return tasks
    .filter((t) => t.backupAttempt !== undefined)
    .map((t) => {
      const attempt = t.backupAttempt!;
      const ended = t.history?.find((h) => h.backup && h.attempt === attempt);
      const state =
        t.status === 'COMMITTED' && t.committedAttempt === attempt
          ? 'won'
          : ended
            ? ended.outcome
            : t.backupOwner
              ? 'running'
              : t.status === 'COMMITTED'
                ? 'not needed'
                : 'posted';
      const worker = t.backupOwner ?? ended?.worker;
      return { taskId: t.taskId, attempt, state, ...(worker ? { worker } : {}) };
    });
}

/** The status lines: a header and one line per backup, or nothing without backups. */
export function backupLines(backups: readonly BackupView[]): string[] {
  if (backups.length === 0) return [];
  return [
    'Backups:',
    ...backups.map((b) => `  ${b.taskId}  attempt ${b.attempt}  ${b.state}${b.worker ? `  on ${b.worker}` : ''}`),
  ];
}
