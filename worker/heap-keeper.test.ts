import { describe, expect, it } from 'vitest';
import { HeapKeeper } from './heap-keeper.js';

describe('HeapKeeper', () => {
  it('collects once when the worker goes idle after tasks, never on a task end, not again until another task', () => {
    let collections = 0;
    const keeper = new HeapKeeper(() => collections++);
    expect(keeper.idle()).toBe(false); // nothing ran yet
    for (let i = 0; i < 1000; i++) keeper.taskEnded();
    expect(collections).toBe(0);
    expect(keeper.idle()).toBe(true);
    expect(keeper.idle()).toBe(false);
    keeper.taskEnded();
    expect(keeper.idle()).toBe(true);
    expect(collections).toBe(2);
    expect(keeper.stats.collections).toBe(2);
  });

  it('does nothing without --expose-gc', () => {
    const keeper = new HeapKeeper(undefined);
    keeper.taskEnded();
    expect(keeper.idle()).toBe(false);
    expect(keeper.stats.collections).toBe(0);
  });
});
