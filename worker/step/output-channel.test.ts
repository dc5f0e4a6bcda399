import { describe, expect, it } from 'vitest';
import { baseEnv } from './child-env.js';
import { OutputChannel } from './output-channel.js';
import { tailLines } from './text.js';
import { roleNoun } from './types.js';

async function collect(ch: OutputChannel): Promise<string[][]> {
  const got: string[][] = [];
  for await (const b of ch) got.push(b);
  return got;
}

describe('OutputChannel', () => {
  it('delivers batches in order, skips empty ones, and drains after close', async () => {
    const ch = new OutputChannel();
    let drained = false;
    void ch.drained.then(() => {
      drained = true;
    });
    ch.push(['a', 'b']);
    ch.push([]);
    ch.push(['c']);
    const reading = collect(ch);
    await new Promise((r) => setImmediate(r));
    expect(drained).toBe(false);
    ch.push(['d']);
    ch.close();
    ch.push(['ignored after close']);
    expect(await reading).toEqual([['a', 'b'], ['c'], ['d']]);
    await ch.drained;
  });

  it('reports full at the high-water mark and frees room as the consumer reads', async () => {
    const ch = new OutputChannel();
    for (let i = 0; i < 8; i++) ch.push([String(i)]);
    expect(ch.full).toBe(true);
    let resumed = false;
    void ch.room().then(() => {
      resumed = true;
    });
    const it = ch[Symbol.asyncIterator]();
    expect((await it.next()).value).toEqual(['0']);
    await Promise.resolve();
    expect(resumed).toBe(true);
    expect(ch.full).toBe(false);
  });

  it('throws the failure to the consumer and frees a waiting producer', async () => {
    const ch = new OutputChannel();
    for (let i = 0; i < 8; i++) ch.push([String(i)]);
    const room = ch.room();
    const err = new Error('boom');
    const reading = collect(ch).catch((e: unknown) => e);
    ch.fail(err);
    await room;
    expect(await reading).toBe(err);
  });

  it('discards further output once the consumer stops early', async () => {
    const ch = new OutputChannel();
    for (let i = 0; i < 10; i++) ch.push([String(i)]);
    for await (const b of ch) {
      expect(b).toEqual(['0']);
      break;
    }
    expect(ch.full).toBe(false);
    ch.push(['more']);
    ch.close();
    await ch.drained;
  });
});

describe('helpers', () => {
  it('tailLines keeps the last lines, bounded in characters', () => {
    expect(tailLines('')).toBe('');
    expect(tailLines('a\nb\n')).toBe('a\nb');
    expect(tailLines('1\n2\n3\n4\n', 2)).toBe('3\n4');
    expect(tailLines('\n\nx', 5)).toBe('\n\nx');
    expect(tailLines('abcdef', 20, 3)).toBe('def');
  });

  it('baseEnv passes only PATH, HOME and TMPDIR', () => {
    expect(baseEnv({ PATH: '/bin', HOME: '/root', AWS_SECRET_ACCESS_KEY: 'x', LC_ALL: 'C' })).toEqual({
      PATH: '/bin',
      HOME: '/root',
    });
  });

  it('roleNoun names roles for messages', () => {
    expect([roleNoun('map'), roleNoun('reduce'), roleNoun('combine')]).toEqual(['mapper', 'reducer', 'combiner']);
  });
});
