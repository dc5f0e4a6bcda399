/**
 * What the scale bench reads from its workers' JSON logs (`worker-N.log` in the stack's state
 * directory, debug level): the reduce attempts' memory breakdowns and descriptor peaks, and
 * the tasks each process claimed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { LOG_EVENTS } from '../../core/log-events.js';
import type { MemoryBreakdown } from '../../core/worker-heap.js';

/** One reduce attempt's own peak of descriptors, as its worker logged it (worker/descriptor-peak.ts). */
export interface ReduceDescriptors {
  readonly taskId: string;
  readonly openFiles: number;
  readonly sockets: number;
  /** Where it was at the peak: 'fetch' (a GET's response) or 'merge' (a merge's inputs opened). */
  readonly at: string;
  readonly looks: number;
}

/** The lines of one worker's JSON log with this `message`, parsed (a line cut short by the worker's exit is skipped). */
export function workerLogEvents(log: string, message: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes(`"message":"${message}"`)) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // A line cut short by the worker's exit: skip it.
    }
  }
  return out;
}

/** The reduce attempts' descriptor peaks (`LOG_EVENTS.reduceDescriptors`, debug level) of one worker's JSON log. */
export function reduceDescriptorLines(log: string): ReduceDescriptors[] {
  return workerLogEvents(log, LOG_EVENTS.reduceDescriptors).map((d) => ({
    taskId: String(d.taskId),
    openFiles: Number(d.openFiles),
    sockets: Number(d.sockets),
    at: String(d.at),
    looks: Number(d.looks),
  }));
}

/** Worker process `n`'s JSON log ('' when it has none). */
export function workerLog(stateDir: string, n: number): string {
  try {
    return readFileSync(path.join(stateDir, `worker-${n}.log`), 'utf8');
  } catch {
    return '';
  }
}

/** One reduce attempt's memory breakdown, as a worker logged it. */
export type ReduceMemory = { readonly taskId: string; readonly at: 'start' | 'end' } & MemoryBreakdown;

/** The reduce attempts' memory lines (`LOG_EVENTS.reduceMemory`, debug level) of one worker's JSON log. */
export function reduceMemoryLines(log: string): ReduceMemory[] {
  return workerLogEvents(log, LOG_EVENTS.reduceMemory).map((d) => {
    // The breakdown's figures are its `...MiB` fields; the rest of the line is the logger's.
    const figures = Object.fromEntries(Object.entries(d).filter(([k]) => k.endsWith('MiB')));
    return { taskId: String(d.taskId), at: d.at === 'end' ? 'end' : 'start', ...figures } as unknown as ReduceMemory;
  });
}

/**
 * Map and reduce tasks claimed by worker process `n` of a stack (its `worker-n.log`; -1 each
 * when unknown), and when it claimed its first reduce (epoch ms; Infinity when none).
 */
export function claimedTasks(stateDir: string, n: number): { maps: number; reduces: number; firstReduceAt: number } {
  if (n < 0) return { maps: -1, reduces: -1, firstReduceAt: Infinity };
  try {
    const claims = readFileSync(path.join(stateDir, `worker-${n}.log`), 'utf8').split('\n').filter((l) => l.includes(`"message":"${LOG_EVENTS.taskClaimed}"`));
    const maps = claims.filter((l) => l.includes('"taskId":"m-')).length;
    const firstReduce = claims.find((l) => !l.includes('"taskId":"m-'));
    const firstReduceAt = firstReduce ? Date.parse((JSON.parse(firstReduce) as { timestamp: string }).timestamp) : Infinity;
    return { maps, reduces: claims.length - maps, firstReduceAt };
  } catch {
    return { maps: -1, reduces: -1, firstReduceAt: Infinity };
  }
}
