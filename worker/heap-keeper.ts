/**
 * Applies the heap policy of core/worker-heap.ts (`shouldCollectHeap`) in a worker
 * process: the worker loop reports task boundaries and empty receives, a reduce attempt
 * asks for one collection before it starts. Full collections need `--expose-gc` (the
 * worker's node arguments, core/worker-heap.ts); without it (a worker run in-process by
 * a test) nothing is collected.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import v8 from 'node:v8';
import { shouldCollectHeap } from '../core/worker-heap.js';

/** The young generation: bounded by its own size, collected often, not the policy's concern. */
const YOUNG_SPACES = new Set(['new_space', 'new_large_object_space']);

/** Bytes in use in every heap space but the young generation's. */
export function oldGenerationBytes(): number {
  let n = 0;
  for (const s of v8.getHeapSpaceStatistics()) if (!YOUNG_SPACES.has(s.space_name)) n += s.space_used_size;
  return n;
}

/**
 * Counts V8's own full collections (not forced by `gc()`), from the GC performance entries.
 * Entries arrive a little after the collection: at a task boundary those of the task are in.
 */
export function watchV8FullCollections(): { readonly count: () => number; readonly stop: () => void } {
  let n = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const d = (e as unknown as { detail?: { kind?: number; flags?: number } }).detail;
      if (d?.kind === constants.NODE_PERFORMANCE_GC_MAJOR && !((d.flags ?? 0) & constants.NODE_PERFORMANCE_GC_FLAGS_FORCED)) n++;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return { count: () => n, stop: () => observer.disconnect() };
}

/** Full collections made by a keeper, and the process CPU time they took (helper threads included). */
export interface HeapKeeperStats {
  collections: number;
  cpuMs: number;
}

export class HeapKeeper {
  readonly stats: HeapKeeperStats = { collections: 0, cpuMs: 0 };
  private oldBytesAfterCollection: number;
  private tasksSinceCollection = 0;
  private v8CollectionsSeen: number;

  /** `v8Collections()`: V8's own full collections so far (`watchV8FullCollections`). */
  constructor(
    private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
    private readonly oldBytes: () => number = oldGenerationBytes,
    private readonly v8Collections: () => number = () => 0,
  ) {
    this.oldBytesAfterCollection = oldBytes();
    this.v8CollectionsSeen = v8Collections();
  }

  /** A task ended (whatever its outcome). Returns true when it collected. */
  taskEnded(): boolean {
    this.tasksSinceCollection++;
    return this.collectIfDue(false);
  }

  /** A receive came back empty. Returns true when it collected. */
  idle(): boolean {
    return this.collectIfDue(true);
  }

  /** Collect now (a reduce attempt's start: it should begin from the live heap alone). */
  collect(): void {
    if (!this.gc) return;
    const cpu = process.cpuUsage();
    this.gc();
    const spent = process.cpuUsage(cpu);
    this.stats.cpuMs += (spent.user + spent.system) / 1000;
    this.stats.collections++;
    this.restart(this.oldBytes());
  }

  /** Count growth from `oldBytes` (after a full collection, or when V8 made its own). */
  private restart(oldBytes: number): void {
    this.oldBytesAfterCollection = oldBytes;
    this.tasksSinceCollection = 0;
    this.v8CollectionsSeen = this.v8Collections();
  }

  private collectIfDue(idle: boolean): boolean {
    if (!this.gc) return false;
    const oldBytes = this.oldBytes();
    const v8Collected = this.v8Collections() > this.v8CollectionsSeen;
    const due = shouldCollectHeap({
      oldBytes,
      oldBytesAfterCollection: this.oldBytesAfterCollection,
      tasksSinceCollection: this.tasksSinceCollection,
      v8Collected,
      idle,
    });
    if (due) this.collect();
    else if (v8Collected && !idle) this.restart(oldBytes);
    return due;
  }
}

/** The worker process's keeper (one heap per process); V8's own collections watched only when `gc()` is there. */
export const workerHeap = (() => {
  const gc = (globalThis as { gc?: () => void }).gc;
  return new HeapKeeper(gc, oldGenerationBytes, gc ? watchV8FullCollections().count : () => 0);
})();
