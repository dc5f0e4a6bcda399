import { describe, expect, it } from 'vitest';
import { COLLECT_AFTER_REDUCE_SLICES, IDLE_COLLECTION_AFTER_MS } from '../core/worker-heap.js';
import { HeapKeeper } from './heap-keeper.js';

describe('HeapKeeper', () => {
  it('collects once the worker has been idle long enough after tasks, never on a task end or a short gap, not again until another task', () => {
    let collections = 0;
    const clock = { now: 1_000_000 };
    const keeper = new HeapKeeper(() => collections++, () => clock.now);
    clock.now += 2 * IDLE_COLLECTION_AFTER_MS;
    expect(keeper.idle()).toBe(false); // nothing ran yet
    for (let i = 0; i < 1000; i++) keeper.taskEnded();
    // Empty receives between a user's jobs (every 20 s long poll) do not collect.
    for (let t = 20_000; t < IDLE_COLLECTION_AFTER_MS; t += 20_000) {
      clock.now += 20_000;
      expect(keeper.idle()).toBe(false);
    }
    clock.now += 20_000;
    expect(collections).toBe(0);
    expect(keeper.idle()).toBe(true);
    clock.now += IDLE_COLLECTION_AFTER_MS;
    expect(keeper.idle()).toBe(false);
    keeper.taskEnded();
    clock.now += IDLE_COLLECTION_AFTER_MS - 1;
    expect(keeper.idle()).toBe(false);
    clock.now += 1;
    expect(keeper.idle()).toBe(true);
    expect(collections).toBe(2);
    expect(keeper.stats.collections).toBe(2);
  });

  it('does nothing without --expose-gc', () => {
    const clock = { now: 0 };
    const keeper = new HeapKeeper(undefined, () => clock.now);
    keeper.taskEnded();
    clock.now += 2 * IDLE_COLLECTION_AFTER_MS;
    expect(keeper.idle()).toBe(false);
    expect(keeper.stats.collections).toBe(0);
  });

  it('collects as a reduce that fetched many slices ends, never after the reduces of small jobs however many', () => {
    let collections = 0;
    const keeper = new HeapKeeper(() => collections++, () => 0);
    expect(keeper.afterReduce(0)).toBe(false);
    // A long-lived worker's reduces of small jobs (8-16 slices each) never collect, not even summed.
    for (let i = 0; i < 100; i++) expect(keeper.afterReduce(16)).toBe(false);
    expect(keeper.afterReduce(COLLECT_AFTER_REDUCE_SLICES - 1)).toBe(false);
    expect(collections).toBe(0);
    expect(keeper.afterReduce(COLLECT_AFTER_REDUCE_SLICES)).toBe(true);
    expect(keeper.afterReduce(512)).toBe(true);
    expect(keeper.stats.collections).toBe(2);
  });

  it('collects nothing after a reduce without --expose-gc', () => {
    const without = new HeapKeeper(undefined, () => 0);
    expect(without.afterReduce(10 * COLLECT_AFTER_REDUCE_SLICES)).toBe(false);
    expect(without.stats.collections).toBe(0);
  });
});
