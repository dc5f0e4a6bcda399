/** `mapreduce logs JOB [--task ID] [--follow]`: the stderr of task attempts, read from S3. */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { TERMINAL_JOB_STATUSES } from '../../core/model.js';
import type { Io } from '../io.js';
import { checkJobIdArg } from '../format.js';
import { positiveInt } from '../job-options.js';
import { addTargetOptions, resolveTarget } from '../target.js';

const TASK_RE = /^[mr]-\d{5}$/;

/** How often --follow looks for new logs and running attempts. */
export const FOLLOW_POLL_MS = 1000;
/** After the job ended, how long --follow waits for its last running attempts to stop (and upload their logs). */
export const FOLLOW_STOP_WAIT_MS = 15_000;

export function registerLogs(program: Command, io: Io): void {
  addTargetOptions(
    program
      .command('logs <job>')
      .description('Print the stderr of task attempts (stored in S3 under jobs/<job>/logs/)')
      .option('-t, --task <id>', 'only this task, e.g. m-00003 (map) or r-00000 (reduce)')
      .option('-a, --attempt <n>', 'only this attempt number', positiveInt('--attempt'))
      .option('-f, --follow', 'keep printing new stderr lines of running attempts, logs as attempts end, and which attempts run, until the job ends'),
  )
    .addHelpText(
      'after',
      `
Each attempt that wrote to stderr leaves one log (reporter: lines included); a failed
attempt leaves at least the last lines of its stderr. While an attempt runs, its worker
uploads the stderr so far (the last 64 KiB) every few heartbeats when it grew
(every ~10 s on the default timings), so --follow prints new lines of running attempts
under "(running)" headers, then the rest of each log as its attempt ends, each line
once, and names the attempts running meanwhile (on stderr). Worker logs (JSON) are
separate: see \`mapreduce local up\` or CloudWatch.

Examples:
  $ mapreduce logs 20261123-221501-ab12cd
  $ mapreduce logs 20261123-221501-ab12cd --task m-00003
  $ mapreduce logs 20261123-221501-ab12cd --task r-00000 --attempt 2
  $ mapreduce logs 20261123-221501-ab12cd --follow`,
    )
    .action(async (jobId: string, o: Record<string, unknown>) => {
      checkJobIdArg(jobId);
      const task = o.task as string | undefined;
      if (task !== undefined && !TASK_RE.test(task)) {
        throw new UsageError(
          `"${task}" is not a task id: use m-NNNNN for map tasks or r-NNNNN for reduce tasks ` +
            `(see \`mapreduce status ${jobId}\`).`,
        );
      }
      const t = await resolveTarget(o);
      const [{ BlobStore }, { JobStore }, { TaskStore }, { liveLogKey, logsPrefix }, { formatAttempt, progressFromTasks }, { LogPrinter }] =
        await Promise.all([
          import('../../aws/blob-store.js'),
          import('../../aws/job-store.js'),
          import('../../aws/task-store.js'),
          import('../../core/layout.js'),
          import('../progress.js'),
          import('../log-printer.js'),
        ]);
      const jobs = new JobStore(t.clients, t.names.table);
      if (!(await jobs.get(jobId, false))) {
        throw new UsageError(`No job "${jobId}" on ${t.description}. List jobs with \`mapreduce jobs\`.`);
      }
      const blobs = new BlobStore(t.clients);
      const attempt = o.attempt as number | undefined;
      const printed = new Set<string>();
      const printer = new LogPrinter((text) => io.out(text));
      /** Print the logs not printed yet; returns how many. */
      const printNew = async (): Promise<number> => {
        const objects = (await blobs.list(t.names.bucket, logsPrefix(jobId, task))).filter(
          (obj) => !printed.has(obj.key) && (attempt === undefined || obj.key.endsWith(`/attempt-${attempt}.stderr`)),
        );
        for (const obj of objects) {
          printed.add(obj.key);
          const m = /\/logs\/([^/]+)\/attempt-(\d+)\.stderr$/.exec(obj.key);
          const body = (await blobs.getBytesIfExists(obj.bucket, obj.key)) ?? Buffer.alloc(0);
          printer.final(m?.[1], Number(m?.[2] ?? 0), body, obj.key);
        }
        return objects.length;
      };
      if (!o.follow) {
        if ((await printNew()) === 0) {
          const which = `${task ? ` task ${task}` : ''}${attempt ? ` attempt ${attempt}` : ''}`;
          io.out(`No stderr recorded for job ${jobId}${which} (attempts that write nothing to stderr leave no log).\n`);
        }
        return;
      }
      const tasks = new TaskStore(t.clients, t.names.table);
      let lastRunning = '';
      let endedAt: number | undefined;
      for (;;) {
        const job = await jobs.get(jobId);
        const records = (await tasks.list(jobId)).filter((x) => task === undefined || x.taskId === task);
        // Live logs of running attempts first: an attempt that ended meanwhile prints its final log after them.
        const live = records.filter((x) => x.status === 'RUNNING' && (attempt === undefined || x.attempt === attempt));
        const bodies = await Promise.all(
          live.map((x) => blobs.getBytesIfExists(t.names.bucket, liveLogKey(jobId, x.taskId, x.attempt)).catch(() => undefined)),
        );
        live.forEach((x, i) => {
          const body = bodies[i];
          if (body) printer.live(x.taskId, x.attempt, body);
        });
        await printNew();
        const running = job ? (progressFromTasks(job, records, Date.now(), Date.now()).attempts ?? []) : [];
        const names = running.map((a) => `${a.taskId}#${a.attempt}`).join(' ');
        if (names !== lastRunning && running.length > 0) {
          io.err(`[running: ${running.map(formatAttempt).join(', ')}]\n`);
        }
        lastRunning = names;
        if (job && TERMINAL_JOB_STATUSES.includes(job.status)) endedAt ??= Date.now();
        if (!job || (endedAt !== undefined && (running.length === 0 || Date.now() - endedAt > FOLLOW_STOP_WAIT_MS))) {
          await printNew(); // logs uploaded by the last attempts as they ended
          io.err(`[job ${jobId} ${job?.status ?? 'gone'}]\n`);
          return;
        }
        await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
      }
    });
}
