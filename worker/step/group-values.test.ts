import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TaskFailedError } from '../../core/errors.js';
import { GroupValues } from './group-values.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mr-group-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** UTF-8 text as the latin1 record the framework holds. */
const rec = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('GroupValues', () => {
  it('hands a small group over as an array, decoded', () => {
    const g = new GroupValues(dir, 1000);
    for (const v of ['1', rec('é'), '']) g.push(v);
    const values = g.take();
    expect(Array.isArray(values)).toBe(true);
    expect(values).toEqual(['1', 'é', '']);
    expect(g.staged).toBe(0);
  });

  it('stages a large group to disk and streams it back once, in order, then deletes the file', async () => {
    const g = new GroupValues(dir, 1000);
    const want: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const v = i % 7 === 0 ? '' : i % 11 === 0 ? rec(`ü${i}`) : String(i);
      g.push(v);
      want.push(Buffer.from(v, 'latin1').toString('utf8'));
    }
    const values = g.take();
    expect(g.staged).toBe(1);
    expect(Array.isArray(values)).toBe(false);
    expect([...values]).toEqual(want);
    expect(() => [...values]).toThrow(/only once/);
    g.release();
    expect(await readdir(dir)).toEqual([]);
    // The next group starts empty and small again.
    g.push('a');
    expect(g.take()).toEqual(['a']);
  });

  it('fails loudly when a staged group is used as an array', () => {
    const g = new GroupValues(dir, 10);
    for (let i = 0; i < 100; i++) g.push('1');
    const values = g.take() as unknown as string[];
    expect(() => values.length).toThrow(TaskFailedError);
    expect(() => values.reduce((a, b) => a + b, '')).toThrow(/has 100 values, too many to hold as an array; iterate them/);
    expect(() => values[0]).toThrow(TaskFailedError);
    g.release();
  });

  it('streams a staged group with async reads under for await, letting timers run between pieces', async () => {
    const g = new GroupValues(dir, 1000);
    const want: string[] = [];
    // ~1.6 MB staged: several 256 KiB reads.
    for (let i = 0; i < 200_000; i++) {
      const v = String(i).padStart(7, '0');
      g.push(v);
      want.push(v);
    }
    // The staged group is also async iterable (the declared type is Iterable<string>).
    const values = g.take() as Iterable<string> & AsyncIterable<string>;
    let ticks = 0;
    let ticksWhileIterating = 0;
    const timer = setInterval(() => ticks++, 0);
    const got: string[] = [];
    try {
      for await (const v of values) {
        got.push(v);
        ticksWhileIterating = ticks;
      }
    } finally {
      clearInterval(timer);
    }
    expect(got).toEqual(want);
    // A synchronous loop would hold the event loop for the whole group: no tick at all.
    expect(ticksWhileIterating).toBeGreaterThan(0);
    expect(() => [...values]).toThrow(/only once/);
    g.release();
  });
});
