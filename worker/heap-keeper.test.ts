import { describe, expect, it } from 'vitest';
import { MIB } from '../core/manifest-limits.js';
import { HEAP_GROWTH_COLLECT_BYTES } from '../core/worker-heap.js';
import { HeapKeeper, oldGenerationBytes } from './heap-keeper.js';

/** A heap that grows by `perTask` bytes per task and drops back to `live` when collected. */
function fakeHeap(live: number, perTask: number) {
  const h = { used: live, collections: 0 };
  const keeper = new HeapKeeper(
    () => {
      h.collections++;
      h.used = live;
    },
    () => h.used,
  );
  return { h, keeper, runTask: () => ((h.used += perTask), keeper.taskEnded()) };
}

describe('HeapKeeper', () => {
  it('collects once per threshold of growth over many tasks, and resets its count on a collection', () => {
    const perTask = MIB / 8; // exact in floating point
    const { h, keeper, runTask } = fakeHeap(20 * MIB, perTask);
    for (let i = 0; i < 1000; i++) runTask();
    // One collection per threshold / perTask tasks (64 at 8 MiB).
    expect(h.collections).toBe(Math.floor(1000 / Math.ceil(HEAP_GROWTH_COLLECT_BYTES / perTask)));
    expect(keeper.stats.collections).toBe(h.collections);
    expect(h.used - 20 * MIB).toBeLessThan(HEAP_GROWTH_COLLECT_BYTES);
  });

  it('collects when idle after a task, once, and a reduce start collects whatever the growth', () => {
    const { h, keeper, runTask } = fakeHeap(20 * MIB, MIB / 8);
    expect(keeper.idle()).toBe(false);
    runTask();
    expect(keeper.idle()).toBe(true);
    expect(keeper.idle()).toBe(false);
    keeper.collect();
    expect(h.collections).toBe(2);
  });

  it('does nothing without --expose-gc, and measures the real heap without the young generation', () => {
    const keeper = new HeapKeeper(undefined, () => 1e12);
    expect(keeper.taskEnded()).toBe(false);
    keeper.collect();
    expect(keeper.stats.collections).toBe(0);
    const held = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    expect(oldGenerationBytes()).toBeGreaterThan(0);
    expect(oldGenerationBytes()).toBeLessThan(process.memoryUsage().heapUsed + 1);
    expect(held.length).toBe(200_000);
  });
});

describe('HeapKeeper with big tasks', () => {
  it('does not collect after a task during which V8 collected on its own, and counts growth from there', () => {
    const h = { used: 20 * MIB, collections: 0, v8: 0 };
    const keeper = new HeapKeeper(
      () => {
        h.collections++;
        h.used = 20 * MIB;
      },
      () => h.used,
      () => h.v8,
    );
    // A big task: V8 collected during it, 100 MiB in use at its end.
    h.used = 120 * MIB;
    h.v8++;
    expect(keeper.taskEnded()).toBe(false);
    // A tiny task after it: growth counts from 120 MiB, not from 20.
    h.used += MIB;
    expect(keeper.taskEnded()).toBe(false);
    h.used += HEAP_GROWTH_COLLECT_BYTES;
    expect(keeper.taskEnded()).toBe(true);
    expect(h.collections).toBe(1);
  });

});
