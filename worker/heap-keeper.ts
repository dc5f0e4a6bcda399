/**
 * Applies the heap policy of core/worker-heap.ts (`shouldCollectHeap`) in a worker
 * process: the worker loop reports task boundaries and empty receives, a reduce attempt
 * asks for one collection before it starts. Full collections need `--expose-gc` (the
 * worker's node arguments, core/worker-heap.ts); without it (a worker run in-process by
 * a test) nothing is collected.
 */
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

/** Full collections made by a keeper, and the process CPU time they took (helper threads included). */
export interface HeapKeeperStats {
  collections: number;
  cpuMs: number;
}

export class HeapKeeper {
  readonly stats: HeapKeeperStats = { collections: 0, cpuMs: 0 };
  private oldBytesAfterCollection: number;
  private tasksSinceCollection = 0;

  constructor(
    private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
    private readonly oldBytes: () => number = oldGenerationBytes,
  ) {
    this.oldBytesAfterCollection = oldBytes();
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
    this.oldBytesAfterCollection = this.oldBytes();
    this.tasksSinceCollection = 0;
  }

  private collectIfDue(idle: boolean): boolean {
    if (!this.gc) return false;
    const due = shouldCollectHeap({
      oldBytes: this.oldBytes(),
      oldBytesAfterCollection: this.oldBytesAfterCollection,
      tasksSinceCollection: this.tasksSinceCollection,
      idle,
    });
    if (due) this.collect();
    return due;
  }
}

/** The worker process's keeper (one heap per process). */
export const workerHeap = new HeapKeeper();
