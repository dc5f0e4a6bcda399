/**
 * The chaos scripts' killer: while a job runs, SIGKILL worker processes at random times,
 * as ECS loses Fargate tasks, and start a replacement after each (as ECS does).
 */
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalStack } from '../local/stack.js';

export interface KillerOptions {
  readonly stack: LocalStack;
  readonly jobId: string;
  /** Seeded random numbers in [0, 1). */
  readonly rnd: () => number;
  /** Kills in a run: 1 to maxKills, chosen at random. */
  readonly maxKills: number;
  /** Stretches the random 0.2-2.5 s wait before each kill (longer jobs spread their kills). */
  readonly spread?: number;
  /** True once the job has ended: the killer stops. */
  readonly finished: () => boolean;
}

/**
 * Kill 1 to maxKills times: wait a random 0.2-2.5 s (× spread), SIGKILL a random live worker,
 * preferring one that runs a task of this job, and start a replacement after a random 0-1 s.
 * Resolves with the number of kills.
 */
export async function killWorkersWhileRunning(o: KillerOptions): Promise<number> {
  const { stack, rnd } = o;
  const target = 1 + Math.floor(rnd() * o.maxKills);
  let kills = 0;
  while (!o.finished() && kills < target) {
    await sleep((200 + rnd() * 2300) * (o.spread ?? 1));
    if (o.finished()) break;
    const live = stack.liveWorkers();
    const busy = new Set(
      (await stack.services.workers.list())
        .filter((w) => w.runningTask?.startsWith(`${o.jobId}/`))
        .map((w) => Number(w.workerId.split('-').at(-2))),
    );
    const candidates = live.filter((c) => busy.has(c.pid as number));
    const pool: ChildProcess[] = candidates.length > 0 ? candidates : live;
    const victim = pool[Math.floor(rnd() * pool.length)];
    if (!victim || o.finished()) break;
    victim.kill('SIGKILL');
    kills++;
    await sleep(rnd() * 1000);
    stack.spawnWorker();
  }
  return kills;
}
