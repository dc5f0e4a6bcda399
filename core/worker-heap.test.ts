import { describe, expect, it } from 'vitest';
import { workerSettingsFromEnv } from './config.js';
import { MIB } from './manifest-limits.js';
import {
  HEAP_BASE_MIB,
  HEAP_GROWING_PERCENT,
  heapNodeArgs,
  LOCAL_WORKER_MEMORY_MIB,
  memoryBreakdown,
  minWorkerHeapMiB,
  RECYCLED_WORKER_SEMI_SPACE_MIB,
  RECYCLED_WORKER_COMPILE_ARG,
  recycledWorkerNodeArgs,
  setsHeapLimit,
  IDLE_COLLECTION_AFTER_MS,
  shouldCollectHeap,
  COLLECT_AFTER_REDUCE_SLICES,
  shouldCollectAfterReduce,
  workerHeapMiB,
  workerNodeArgs,
} from './worker-heap.js';

const DEFAULT_BUFFER = workerSettingsFromEnv({}).sortBufferBytes;

describe('worker heap limit', () => {
  it('holds the sort buffer twice plus the base, and takes half the container above that', () => {
    expect(minWorkerHeapMiB(64 * MIB)).toBe(128 + HEAP_BASE_MIB);
    // Fargate default (2048 MiB) with the default 128 MiB buffer: half the container.
    expect(workerHeapMiB({ memoryMiB: 2048, sortBufferBytes: DEFAULT_BUFFER })).toBe(1024);
    // A small container: the floor wins over the half.
    expect(workerHeapMiB({ memoryMiB: 512, sortBufferBytes: DEFAULT_BUFFER })).toBe(minWorkerHeapMiB(DEFAULT_BUFFER));
  });

  it('never starves the sort buffer of a normal job in the local default (word count 128 MiB, terasort 64 MiB)', () => {
    for (const buffer of [DEFAULT_BUFFER, 64 * MIB]) {
      const heap = workerHeapMiB({ memoryMiB: LOCAL_WORKER_MEMORY_MIB, sortBufferBytes: buffer });
      expect(heap).toBeGreaterThanOrEqual(minWorkerHeapMiB(buffer));
      expect(heap * MIB).toBeGreaterThanOrEqual(2 * buffer);
    }
  });

  it('refuses an explicit limit or a container that cannot hold the buffer, saying what to change', () => {
    expect(workerHeapMiB({ memoryMiB: 512, sortBufferBytes: 8 * MIB, heapMiB: 200 })).toBe(200);
    expect(() => workerHeapMiB({ memoryMiB: 4096, sortBufferBytes: 128 * MIB, heapMiB: 300 })).toThrow(/MR_WORKER_HEAP_MIB=300 .*at least 352 MiB/);
    expect(() => workerHeapMiB({ memoryMiB: 4096, sortBufferBytes: 8 * MIB, heapMiB: Number('x') })).toThrow(/MR_WORKER_HEAP_MIB/);
    expect(() => workerHeapMiB({ memoryMiB: 400, sortBufferBytes: 128 * MIB })).toThrow(/more memory or lower MR_SORT_BUFFER_BYTES/);
    expect(() => workerHeapMiB({ memoryMiB: Number(''), sortBufferBytes: 8 * MIB })).toThrow(/MR_WORKER_MEMORY_MIB/);
  });

  it('adds the limit to the node arguments unless the caller or NODE_OPTIONS set one', () => {
    const env = { MR_SORT_BUFFER_BYTES: String(64 * MIB) };
    expect(workerNodeArgs(['--cpu-prof'], env, 512)).toEqual([...heapNodeArgs(256), '--cpu-prof']);
    expect(workerNodeArgs([], { ...env, MR_WORKER_MEMORY_MIB: '2048' }, 512)).toEqual(heapNodeArgs(1024));
    expect(workerNodeArgs([], { ...env, MR_WORKER_HEAP_MIB: '300' }, 512)).toEqual(heapNodeArgs(300));
    expect(workerNodeArgs(['--max-old-space-size=64'], env, 512)).toEqual(['--max-old-space-size=64']);
    expect(workerNodeArgs([], { ...env, NODE_OPTIONS: '--enable-source-maps --max_old_space_size=64' }, 512)).toEqual([]);
    expect(setsHeapLimit(['--max-semi-space-size=16'])).toBe(false);
    expect(heapNodeArgs(300)).toEqual(['--max-old-space-size=300', `--heap-growing-percent=${HEAP_GROWING_PERCENT}`, '--expose-gc']);
  });

  it('gives a replacement of a recycled worker the semi-space ceiling of a young one (8 MiB), unless its arguments set one', () => {
    // 8 MiB semi-spaces: the 16 MiB new space of a worker that ran a few tasks (M = 16's reducers).
    expect(RECYCLED_WORKER_SEMI_SPACE_MIB).toBe(8);
    expect(RECYCLED_WORKER_COMPILE_ARG).toBe('--no-concurrent-recompilation');
    expect(recycledWorkerNodeArgs([...heapNodeArgs(1024), 'x.js'])).toEqual(['--max-semi-space-size=8', '--no-concurrent-recompilation', ...heapNodeArgs(1024), 'x.js']);
    expect(recycledWorkerNodeArgs(['--max_semi_space_size=2', 'x.js'])).toEqual(['--no-concurrent-recompilation', '--max_semi_space_size=2', 'x.js']);
    // The caller's compile setting wins, either way.
    expect(recycledWorkerNodeArgs(['--concurrent-recompilation', 'x.js'])).toEqual(['--max-semi-space-size=8', '--concurrent-recompilation', 'x.js']);
    expect(recycledWorkerNodeArgs(['--max-semi-space-size=4', '--no-concurrent-recompilation', 'x.js'])).toEqual(['--max-semi-space-size=4', '--no-concurrent-recompilation', 'x.js']);
  });
});

describe('heap policy between jobs', () => {
  it('collects only after a long idle time following a task, never while tasks keep coming or between close jobs, never twice in a row', () => {
    expect(shouldCollectHeap({ tasksSinceCollection: 1, idleForMs: IDLE_COLLECTION_AFTER_MS })).toBe(true);
    expect(shouldCollectHeap({ tasksSinceCollection: 1000, idleForMs: 0 })).toBe(false);
    // The first empty receive after a job (a 20 s long poll), or a minute's gap: no.
    expect(shouldCollectHeap({ tasksSinceCollection: 1, idleForMs: 20_000 })).toBe(false);
    expect(shouldCollectHeap({ tasksSinceCollection: 1, idleForMs: IDLE_COLLECTION_AFTER_MS - 1 })).toBe(false);
    expect(shouldCollectHeap({ tasksSinceCollection: 0, idleForMs: 10 * IDLE_COLLECTION_AFTER_MS })).toBe(false);
  });
});

describe('memory breakdown', () => {
  it('reports each part in MiB, the spaces committed, and native as RSS outside the heap and external memory', () => {
    const usage = { rss: 120 * MIB, heapTotal: 58.4 * MIB, heapUsed: 33.4 * MIB, external: 20.4 * MIB, arrayBuffers: 18.1 * MIB };
    const spaces = [
      { space_name: 'read_only_space', space_size: 0, space_used_size: 0 },
      { space_name: 'new_space', space_size: 32 * MIB, space_used_size: 12.3 * MIB },
      { space_name: 'old_space', space_size: 18.2 * MIB, space_used_size: 13.9 * MIB },
      { space_name: 'code_space', space_size: 4.5 * MIB, space_used_size: 3.5 * MIB },
      { space_name: 'large_object_space', space_size: 3.7 * MIB, space_used_size: 3.6 * MIB },
    ];
    expect(memoryBreakdown(usage, spaces)).toEqual({
      rssMiB: 120,
      heapTotalMiB: 58.4,
      heapUsedMiB: 33.4,
      externalMiB: 20.4,
      arrayBuffersMiB: 18.1,
      nativeMiB: 41.2,
      newSpaceMiB: 32,
      oldSpaceMiB: 18.2,
      oldSpaceUsedMiB: 13.9,
      codeSpaceMiB: 4.5,
      largeObjectSpaceMiB: 3.7,
    });
  });

  it('reads a space V8 does not report as 0', () => {
    const b = memoryBreakdown({ rss: MIB, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }, []);
    expect([b.newSpaceMiB, b.oldSpaceMiB, b.codeSpaceMiB, b.largeObjectSpaceMiB, b.nativeMiB]).toEqual([0, 0, 0, 0, 1]);
  });
});

describe('heap policy before a reduce', () => {
  it('collects after the reduces of a many-map job (M = 2,048: 512 slices per reduce at R = 4), not after those of a small job', () => {
    expect(shouldCollectAfterReduce(0)).toBe(false);
    // TeraSort 1 GiB (16 maps) and the e2e bench (8 maps): a reduce fetches 8-16 slices.
    expect(shouldCollectAfterReduce(16)).toBe(false);
    expect(shouldCollectAfterReduce(COLLECT_AFTER_REDUCE_SLICES - 1)).toBe(false);
    expect(shouldCollectAfterReduce(COLLECT_AFTER_REDUCE_SLICES)).toBe(true);
    expect(shouldCollectAfterReduce(512)).toBe(true);
  });
});
