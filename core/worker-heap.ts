/**
 * The V8 heap limit a worker process is started with (`--max-old-space-size`).
 *
 * Why set one: with no limit, V8 sizes the old generation from the machine's memory (4 GiB
 * on a 24 GiB host) and lets garbage pile up before collecting: a streamed hot-key reduce
 * whose live data is a few MiB peaked at 397 MiB RSS at 2 M values. A limit makes V8
 * collect sooner; it does not shrink what the worker needs.
 *
 * What must fit: the map-side sort buffer lives ON the heap (JS strings in
 * core/sort-buffer.ts, counted with their overheads), and sorting a full buffer allocates
 * about as much again (key arrays, the spill's encode). So the floor is twice the sort
 * buffer plus a base for code, SDK clients and merge batches. Above the floor the worker
 * takes half the container: the other half is for what V8 does not count — fetched
 * slices and stream buffers (off-heap `Buffer`s), the young generation, and the job's own
 * executables (a Python reducer's dict lives in its own process, in the same container).
 *
 * The limit is passed as a node argument, not NODE_OPTIONS, so a job's own `node`
 * executables (which inherit the worker's environment) keep their default heap.
 */
import { workerSettingsFromEnv } from './config.js';
import { MIB } from './manifest-limits.js';

/** Environment variable: the heap limit, MiB, overriding the computed default. */
export const WORKER_HEAP_ENV = 'MR_WORKER_HEAP_MIB';
/** Environment variable: the memory of the worker's container, MiB (set by the CDK stack). */
export const WORKER_MEMORY_ENV = 'MR_WORKER_MEMORY_MIB';
/**
 * A local stack's worker is a plain process: sized as the CDK stack's default Fargate
 * worker (`workerMemoryMiB` 2048), so local and deployed workers get the same heap. A
 * smaller limit costs CPU: a 352 MiB heap (a 512 MiB container) made the shell word count
 * 15-20 % dearer in CPU per MiB than 1024 MiB (docs/performance.md).
 */
export const LOCAL_WORKER_MEMORY_MIB = 2048;
/** Heap for everything but the sort buffer: code, SDK clients, merge batches, a module's state. */
export const HEAP_BASE_MIB = 96;
/** Share of the container the heap gets above its floor. */
export const HEAP_SHARE_OF_MEMORY = 0.5;
/** The floor may take at most this share of the container; past it the container is too small. */
export const MAX_HEAP_SHARE_OF_MEMORY = 0.8;

/** The least heap a worker with this sort buffer runs in: the buffer, its sort, and the base. */
export function minWorkerHeapMiB(sortBufferBytes: number): number {
  return Math.ceil((2 * sortBufferBytes) / MIB) + HEAP_BASE_MIB;
}

export interface WorkerHeapInput {
  /** Memory of the container (or the share of the host) one worker process may use, MiB. */
  readonly memoryMiB: number;
  /** The worker's map-side sort buffer (MR_SORT_BUFFER_BYTES). */
  readonly sortBufferBytes: number;
  /** An explicit limit (MR_WORKER_HEAP_MIB); checked against the floor, not changed. */
  readonly heapMiB?: number;
}

/**
 * The heap limit, MiB: the explicit one, or half the container but at least
 * `minWorkerHeapMiB`. Throws an actionable error when the limit cannot hold the sort
 * buffer, or the floor would leave the container too little for everything off-heap.
 */
export function workerHeapMiB(i: WorkerHeapInput): number {
  const floor = minWorkerHeapMiB(i.sortBufferBytes);
  const buffer = `a sort buffer of ${Math.round(i.sortBufferBytes / MIB)} MiB (MR_SORT_BUFFER_BYTES)`;
  if (i.heapMiB !== undefined) {
    if (!Number.isInteger(i.heapMiB) || i.heapMiB < floor) {
      throw new Error(
        `${WORKER_HEAP_ENV}=${i.heapMiB} is too small for ${buffer}: it needs at least ${floor} MiB ` +
          `(twice the buffer + ${HEAP_BASE_MIB}). Raise ${WORKER_HEAP_ENV} or lower MR_SORT_BUFFER_BYTES.`,
      );
    }
    return i.heapMiB;
  }
  if (!Number.isInteger(i.memoryMiB) || i.memoryMiB <= 0) {
    throw new Error(`${WORKER_MEMORY_ENV}=${i.memoryMiB} is not a positive whole number of MiB.`);
  }
  if (floor > i.memoryMiB * MAX_HEAP_SHARE_OF_MEMORY) {
    throw new Error(
      `A worker with ${i.memoryMiB} MiB of memory cannot hold ${buffer}: its heap needs ${floor} MiB ` +
        `and at most ${MAX_HEAP_SHARE_OF_MEMORY * 100} % of the memory may go to the heap. ` +
        `Give workers more memory or lower MR_SORT_BUFFER_BYTES.`,
    );
  }
  return Math.max(floor, Math.floor(i.memoryMiB * HEAP_SHARE_OF_MEMORY));
}

/**
 * The old generation's growth per full GC, as V8's `--heap-growing-percent` (factor 1 + p/100).
 * V8 picks the factor from the heap limit: 4 for a limit of 2 GiB or more (the default on a
 * big host), but only 1.3–2 below it. With that small factor, the sort buffer's live data
 * triggers many more full GCs: terasort's workers (64 MiB buffer) used 4.0–5.6 CPU-seconds
 * for 64 MiB under a 256–1024 MiB limit against 3.0–3.3 with no limit; a factor of 2 under
 * the 256 MiB limit gave 3.2 s, and hot_key's reduce still peaked at 168 MiB (2 M values).
 */
export const HEAP_GROWING_PERCENT = 100;

/**
 * The node arguments that apply the limit (and the growth factor that keeps GC cheap under
 * it), and `--expose-gc` for the full collection a worker makes after a long idle time
 * (`shouldCollectHeap`).
 */
export function heapNodeArgs(heapMiB: number): string[] {
  return [`--max-old-space-size=${heapMiB}`, `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--expose-gc'];
}

/**
 * The young generation's ceiling (`--max-semi-space-size`, MiB per semi-space) of a worker
 * process started to replace a recycled one (core/worker-recycle.ts), the same size a worker
 * that ran a few tasks has. Why: V8 doubles the semi-spaces each time the bytes surviving
 * scavenges since the last doubling exceed their size, so a fresh process that fetches a
 * reduce's 2 x 2,048 slices grows its new space 16 -> 32 MiB during that fetch alone (+16 MiB
 * RSS; docs/performance.md, session 18), and at M = 16 it stays at 16. Not for the first
 * workers: the cap cost TeraSort's workers +18 MiB of peak RSS (the sort buffer promoted
 * sooner, session 15), and a worker is replaced only after 256 tasks, which no normal job
 * gives a worker.
 */
export const RECYCLED_WORKER_SEMI_SPACE_MIB = 8;

/**
 * A replacement worker compiles its optimized code on its main thread
 * (`--no-concurrent-recompilation`) instead of on V8's compiler threads. Why: a fresh process
 * that optimizes the reduce's fetch path (thousands of ranged GETs at M = 2,048) kept ~5-7 MiB
 * more RSS when it compiled on those threads (in process, 4 x 512 tiny GETs: 93.2 against 85.3
 * MiB; with no optimizing compiler at all 79.3; with `MALLOC_ARENA_MAX=1` 87.8, so, as we read
 * it, the compiler zones' malloc memory kept in the threads' glibc arenas), which a worker that ran its first tasks with
 * a few GETs never pays (docs/performance.md, session 19, branch `red19`). On the main thread
 * the same zones come from the main arena, which the next ones reuse. The work is the same;
 * what changes is that the worker's JS waits while a function is optimized. Only for
 * replacements, as the semi-space ceiling: no normal job's worker is replaced.
 */
export const RECYCLED_WORKER_COMPILE_ARG = '--no-concurrent-recompilation';

/**
 * A replacement worker's node arguments: `nodeArgs` with the semi-space ceiling and
 * RECYCLED_WORKER_COMPILE_ARG, each unless they set it.
 */
export function recycledWorkerNodeArgs(nodeArgs: readonly string[]): string[] {
  const sets = (flag: RegExp) => nodeArgs.some((a) => flag.test(a));
  return [
    ...(sets(/^--max[-_]semi[-_]space[-_]size(=|$)/) ? [] : [`--max-semi-space-size=${RECYCLED_WORKER_SEMI_SPACE_MIB}`]),
    ...(sets(/^--(no-)?concurrent[-_]recompilation$/) ? [] : [RECYCLED_WORKER_COMPILE_ARG]),
    ...nodeArgs,
  ];
}

/** True when node options already set a heap limit (the caller's wins). */
export function setsHeapLimit(nodeArgs: readonly string[]): boolean {
  return nodeArgs.some((a) => /^--max[-_]old[-_]space[-_]size(=|$)/.test(a));
}

/**
 * A worker process's node arguments: `callerArgs`, plus the default heap limit unless they
 * or the worker's NODE_OPTIONS already set one. `env` is the worker's environment: its
 * MR_SORT_BUFFER_BYTES, MR_WORKER_HEAP_MIB and MR_WORKER_MEMORY_MIB (else `memoryMiB`).
 */
export function workerNodeArgs(callerArgs: readonly string[], env: Readonly<Record<string, string | undefined>>, memoryMiB: number): string[] {
  if (setsHeapLimit(callerArgs) || setsHeapLimit((env.NODE_OPTIONS ?? '').split(/\s+/))) return [...callerArgs];
  const explicit = env[WORKER_HEAP_ENV];
  const memory = env[WORKER_MEMORY_ENV];
  const heap = workerHeapMiB({
    memoryMiB: memory ? Number(memory) : memoryMiB,
    sortBufferBytes: workerSettingsFromEnv(env).sortBufferBytes,
    heapMiB: explicit ? Number(explicit) : undefined,
  });
  return [...heapNodeArgs(heap), ...callerArgs];
}

/**
 * A long-lived worker's heap between jobs. V8 collects the old generation only when it has
 * doubled its live size (`--heap-growing-percent=100`), so a worker that ran many tiny tasks
 * holds up to a live heap's worth of their garbage while it waits for its next job. The
 * worker loop (worker/worker.ts) collects fully once it has been idle for
 * `IDLE_COLLECTION_AFTER_MS` after a task, never sooner: a forced full collection makes V8
 * compile the worker's hot code again, and the next job pays for it. Collecting at the
 * first empty receive (20 s after a job) cost the next 16 MiB module job 18 % of its
 * workers' CPU on the synthetic corpus and 32 % on English (docs/performance.md, the idle
 * collection's A/B), and a user's jobs often come minutes apart. What waiting costs is RSS
 * while idle, which matters little: Fargate bills a task's reserved memory, not its RSS,
 * and the service scales idle workers in after `idleMinutesBeforeScaleIn` (5 min by
 * default, infra/config.ts) anyway; a local worker left idle gives its garbage back after
 * the wait. While busy, V8's own trigger bounds the garbage (twice the live heap).
 */
export interface HeapCheck {
  /** Tasks the worker ran since its last full collection. */
  readonly tasksSinceCollection: number;
  /** How long the worker has been idle (since its last task ended; 0 while busy), ms. */
  readonly idleForMs: number;
}

/** The idle time after which a worker collects its heap fully (5 min: the default scale-in wait). */
export const IDLE_COLLECTION_AFTER_MS = 5 * 60_000;

/** Collect now? Only after `IDLE_COLLECTION_AFTER_MS` idle, having run a task since the last collection. */
export function shouldCollectHeap(c: HeapCheck): boolean {
  return c.tasksSinceCollection > 0 && c.idleForMs >= IDLE_COLLECTION_AFTER_MS;
}

/**
 * The slices a reduce attempt fetched from which it ends with a full collection
 * (`shouldCollectAfterReduce`). Why: a reduce's fetch promotes ~1 KiB per slice into the old
 * generation (the GETs' objects and the slices' segments that outlive two scavenges), and the
 * next claim's map listing (2,048 records per reducer at M = 2,048) more; none of it is live
 * once the reduce ended (heap snapshots: +0.1 MiB live per reduce of 512 slices), but V8
 * collects the old generation only when it has doubled (`HEAP_GROWING_PERCENT`), so each
 * reduce of 512 tiny slices added 0.5-1 MiB of old-space pages, which V8 keeps, and the next
 * reduce started where the last ended: +7-8 MiB over a fresh reducer's two reduces at
 * M = 2,048, < 1.5 at M = 16 (docs/performance.md, session 19, branch `red19`). A collection
 * when such a reduce ends lets what follows reuse those pages. Per reduce, not summed over a
 * worker's life: a forced collection makes V8 compile the worker's hot code again (the idle
 * collection's A/B, `shouldCollectHeap`), so the reduces of normal jobs (8-16 slices: the e2e
 * bench, TeraSort 1 GiB), however many a long-lived worker runs, never collect; a reduce of
 * 256 slices or more takes seconds, against ~20 ms for the collection.
 */
export const COLLECT_AFTER_REDUCE_SLICES = 256;

/** Collect fully as a reduce that fetched `slices` slices ends? From COLLECT_AFTER_REDUCE_SLICES on. */
export function shouldCollectAfterReduce(slices: number): boolean {
  return slices >= COLLECT_AFTER_REDUCE_SLICES;
}

/** `process.memoryUsage()`'s fields a breakdown reads, bytes. */
export interface ProcessMemory {
  readonly rss: number;
  readonly heapTotal: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** One entry of `v8.getHeapSpaceStatistics()`, bytes. */
export interface HeapSpace {
  readonly space_name: string;
  readonly space_size: number;
  readonly space_used_size: number;
}

/**
 * A worker process's memory by part, MiB (one decimal). Logged at debug level at the start
 * and end of each reduce attempt (worker/reduce-task.ts) and reported by the `scale_curve`
 * bench, because the reducer's RSS after ~1,000 tiny maps is not the reduce's: it is V8's
 * young generation grown to its ceiling (new space), old-space pages and JIT code (code
 * space) the process kept, and glibc's retained heap (`nativeMiB`), which only a breakdown
 * tells apart (docs/performance.md, session 15). `nativeMiB` is `rss - heapTotal - external`:
 * node's binary and libraries mapped from file (~41 MiB, the same in every worker) plus
 * glibc's heap; an estimate, low when external buffers are counted but not yet resident or
 * already freed but not yet collected.
 */
export interface MemoryBreakdown {
  readonly rssMiB: number;
  readonly heapTotalMiB: number;
  readonly heapUsedMiB: number;
  readonly externalMiB: number;
  readonly arrayBuffersMiB: number;
  readonly nativeMiB: number;
  /** Committed (`space_size`) MiB of V8's young generation: both semi-spaces. */
  readonly newSpaceMiB: number;
  readonly oldSpaceMiB: number;
  readonly oldSpaceUsedMiB: number;
  readonly codeSpaceMiB: number;
  readonly largeObjectSpaceMiB: number;
}

/** The breakdown of one `process.memoryUsage()` and `v8.getHeapSpaceStatistics()` sample. */
export function memoryBreakdown(m: ProcessMemory, spaces: readonly HeapSpace[]): MemoryBreakdown {
  const mib = (bytes: number) => Math.round((bytes / MIB) * 10) / 10;
  const space = (name: string) => spaces.find((s) => s.space_name === name);
  const committed = (name: string) => mib(space(name)?.space_size ?? 0);
  return {
    rssMiB: mib(m.rss),
    heapTotalMiB: mib(m.heapTotal),
    heapUsedMiB: mib(m.heapUsed),
    externalMiB: mib(m.external),
    arrayBuffersMiB: mib(m.arrayBuffers),
    nativeMiB: mib(m.rss - m.heapTotal - m.external),
    newSpaceMiB: committed('new_space'),
    oldSpaceMiB: committed('old_space'),
    oldSpaceUsedMiB: mib(space('old_space')?.space_used_size ?? 0),
    codeSpaceMiB: committed('code_space'),
    largeObjectSpaceMiB: committed('large_object_space'),
  };
}
