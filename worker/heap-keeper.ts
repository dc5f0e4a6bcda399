/**
 * Applies the heap policy of core/worker-heap.ts (`shouldCollectHeap`,
 * `shouldCollectAfterReduce`) in a worker process: the worker loop reports task ends and
 * empty receives, and the keeper collects fully once the worker has been idle long enough
 * after running tasks; a reduce attempt that fetched many slices collects at its end. Full collections need
 * `--expose-gc` (the worker's node arguments, core/worker-heap.ts); without it (a worker
 * run in-process by a test) nothing is collected.
 */
import { shouldCollectAfterReduce, shouldCollectHeap } from '../core/worker-heap.js';

/** Full collections made by a keeper, and the process CPU time they took (helper threads included). */
export interface HeapKeeperStats {
  collections: number;
  cpuMs: number;
}

export class HeapKeeper {
  readonly stats: HeapKeeperStats = { collections: 0, cpuMs: 0 };
  private tasksSinceCollection = 0;
  private lastTaskEndedAt = 0;

  constructor(
    private readonly gc: (() => void) | undefined = (globalThis as { gc?: () => void }).gc,
    private readonly now: () => number = Date.now,
  ) {}

  /** A task ended (whatever its outcome). */
  taskEnded(): void {
    this.tasksSinceCollection++;
    this.lastTaskEndedAt = this.now();
  }

  /** A receive came back empty. Returns true when it collected. */
  idle(): boolean {
    const idleForMs = this.now() - this.lastTaskEndedAt;
    if (!shouldCollectHeap({ tasksSinceCollection: this.tasksSinceCollection, idleForMs })) return false;
    return this.collect();
  }

  /** A reduce attempt fetched `n` map slices and merged them. Returns true when it collected (many slices). */
  afterReduce(n: number): boolean {
    return shouldCollectAfterReduce(n) && this.collect();
  }

  private collect(): boolean {
    if (!this.gc) return false;
    const cpu = process.cpuUsage();
    this.gc();
    const spent = process.cpuUsage(cpu);
    this.stats.cpuMs += (spent.user + spent.system) / 1000;
    this.stats.collections++;
    this.tasksSinceCollection = 0;
    return true;
  }
}

/** The worker process's keeper (one heap per process). */
export const workerHeap = new HeapKeeper();
