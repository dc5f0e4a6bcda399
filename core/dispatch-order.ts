/**
 * The order a job's map tasks are sent in: largest split first (Hadoop's JobSubmitter sorts
 * its splits the same way, "so that the biggest go first"). Workers take tasks in about the
 * order they were sent, and a map phase ends when its last task does: a large split sent
 * last runs alone while the other workers have nothing left (list scheduling's tail). Sent
 * first, the large splits run while there is still other work, and the small ones even out
 * the end.
 *
 *   key order:      w1: a a b ·········· idle      w2: c c c d d BIG BIG BIG BIG
 *   largest first:  w1: BIG BIG BIG BIG d d         w2: a a b c c c
 *
 * Only the sending order changes: task numbers (m-NNNNN, and so a map-only job's part
 * names) stay in split order. Equal splits keep their order (the sort is stable), so an
 * evenly cut input is sent exactly as before. Pure; services/plan-writer.ts applies it to a
 * job's first step, services/step-change.ts to each later step's parts.
 */
import type { InputSplit } from './model.js';

/** The bytes a split's map task reads: its range, or the whole object when compressed. */
export function splitWork(split: Pick<InputSplit, 'start' | 'end' | 'objectSize' | 'gzip'>): number {
  return split.gzip ? split.objectSize : Math.max(0, Math.min(split.end, split.objectSize) - split.start);
}

/** Map task indices in the order they are sent: by splitWork descending, ties by index. */
export function mapDispatchOrder(splits: readonly Pick<InputSplit, 'start' | 'end' | 'objectSize' | 'gzip'>[]): number[] {
  const work = splits.map(splitWork);
  return work.map((_, i) => i).sort((a, b) => work[b]! - work[a]! || a - b);
}
