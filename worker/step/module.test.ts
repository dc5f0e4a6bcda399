import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PoisonTaskError, TaskFailedError } from '../../core/errors.js';
import { markAsciiBatch } from '../../core/records.js';
import { expectNoLeftoverProcesses, FIXTURES, makeWorkDir, removeWorkDir, runStep } from '../../test/fixtures/worker/harness.js';
import { mergeSortedBytes } from '../../core/byte-merge.js';
import { type RunningStep, type StepContext, startStep } from './index.js';
import { groupCombinerFromModule, loadModuleFunction } from './module-support.js';
import { encodeRecord, latin1ToText, textToLatin1 } from './text.js';

let dir: string;
beforeEach(async () => {
  dir = await makeWorkDir();
});
afterEach(async () => {
  await expectNoLeftoverProcesses();
  await removeWorkDir(dir);
});

/** UTF-8 text as the latin1 record the framework holds. */
const rec = (s: string) => Buffer.from(s, 'utf8').toString('latin1');

describe('module steps', () => {
  it('runs a synchronous word-count map and reduce', async () => {
    const map = await runStep({ module: 'wc.mjs' }, { workDir: dir, input: [['the quick fox', 'the  dog'], ['the']] });
    expect(map.error).toBeUndefined();
    expect(map.out).toEqual(['the\t1', 'quick\t1', 'fox\t1', 'the\t1', 'dog\t1', 'the\t1']);
    expect(map.result).toEqual({ stderr: Buffer.alloc(0), stderrTail: '' });

    const sorted = [...map.out].sort();
    const reduce = await runStep({ module: 'wc.mjs' }, { role: 'reduce', workDir: dir, input: [sorted] });
    expect(reduce.out).toEqual(['dog\t1', 'fox\t1', 'quick\t1', 'the\t3']);
    const combine = await runStep({ module: 'wc.mjs' }, { role: 'combine', workDir: dir, input: [sorted] });
    expect(combine.out).toEqual(reduce.out);
  });

  it('awaits async map and reduce functions', async () => {
    const map = await runStep({ module: 'wc_async.mjs' }, { workDir: dir, input: [['a b', 'b'], ['c']] });
    expect(map.error).toBeUndefined();
    expect(map.out).toEqual(['a\t1', 'b\t1', 'b\t1', 'c\t1']);
    const reduce = await runStep(
      { module: 'wc_async.mjs' },
      {
        role: 'reduce',
        workDir: dir,
        input: [
          ['a\t1', 'b\t1'],
          ['b\t1', 'c\t1'],
        ],
      },
    );
    expect(reduce.out).toEqual(['a\t1', 'b\t2', 'c\t1']);
  });

  it('keeps a reduce group open across input batches', async () => {
    const r = await runStep(
      { module: 'groups.mjs' },
      {
        role: 'reduce',
        workDir: dir,
        input: [['a\t1', 'b\t1'], ['b\t2'], [], ['b\t3', 'c'], ['c\tx\ty'], ['\tempty key']],
      },
    );
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual(['a\t1:1', 'b\t3:1|2|3', 'c\t2:|x\ty', '\t1:empty key']);
  });

  it('groups a reducer\'s input given as bytes like the same lines given as strings', async () => {
    const lines = ['a\t1', 'b\t1', 'b\t2', 'b\t2', 'c', 'c\tx\ty', '\tempty key', '\t', rec('é\t1'), rec('é\tü'), 'long-key-'.repeat(20) + '\t1'];
    const batches = [lines.slice(0, 2), lines.slice(2, 5), lines.slice(5, 7), lines.slice(7)];
    const strings = await runStep({ module: 'groups.mjs' }, { role: 'reduce', workDir: dir, input: batches });
    expect(strings.error).toBeUndefined();
    // Groups open across blocks, from bytes into strings and back; a block without '\n' after its last line.
    const bytes = (ls: string[], nl = true) => Buffer.from(ls.join('\n') + (nl ? '\n' : ''), 'latin1');
    const input = [bytes(batches[0]!), bytes(batches[1]!, false), batches[2]!, bytes(batches[3]!)];
    const r = await runStep({ module: 'groups.mjs' }, { role: 'reduce', workDir: dir, input });
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual(strings.out);
    expect(r.out).toEqual(['a\t1:1', 'b\t3:1|2|2', 'c\t2:|x\ty', '\t2:empty key|', rec('é\t2:1|ü'), `${'long-key-'.repeat(20)}\t1:1`]);
    const utf8 = await runStep({ module: 'utf8.mjs' }, { role: 'combine', workDir: dir, input: [bytes([rec('日本\t1'), rec('日本\t2'), '\xff\t3'])] });
    expect(utf8.out).toEqual([rec('日本\t1+2'), rec('\ufffd\t3')]);
  });

  it('decodes a group\'s values from a non-ASCII block when its key came from an ASCII one', async () => {
    // The step skips UTF-8 decoding for groups read wholly from ASCII blocks: a group open
    // across an ASCII and a non-ASCII block must still be decoded.
    const input = [Buffer.from('a\t1\nk\t1\n', 'latin1'), Buffer.from(rec('k\tα\nk\t2\nü\tβ\n'), 'latin1'), Buffer.from('z\t4\n', 'latin1')];
    const r = await runStep({ module: 'utf8.mjs' }, { role: 'reduce', workDir: dir, input });
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual([rec('a→\t1:1'), rec('k→\t1:1·α·2'), rec('ü→\t1:β'), rec('z→\t1:4')]);
  });

  it('keeps the open group\'s key when the caller reuses a block after writeBytes', async () => {
    const ctx = { role: 'reduce' as const, workDir: dir, env: {}, noProgressTimeoutMs: 5000, onCounter: () => {}, onStatus: () => {} };
    const reduce = await startStep({ module: 'groups.mjs' }, ctx);
    const out: string[] = [];
    const drained = (async () => {
      for await (const batch of reduce.output) out.push(...batch);
    })();
    const block = Buffer.from('k\t1\nkey\t2\n', 'latin1');
    await reduce.writeBytes!(block);
    block.fill('key\t3\n'); // the merge may reuse its block: what was read of it must not change
    await reduce.writeBytes!(Buffer.from('key\t4\n'));
    await reduce.end();
    await drained;
    await reduce.done;
    expect(out).toEqual(['k\t1:1', 'key\t2:2|4']);
  });

  it('reads a block\'s lines and group starts from the merge\'s index, with the same groups as from the bytes', async () => {
    const ctx = { role: 'reduce' as const, workDir: dir, env: {}, noProgressTimeoutMs: 5000, onCounter: () => {}, onStatus: () => {} };
    const run = async (feed: (step: RunningStep) => Promise<void>): Promise<string[]> => {
      const reduce = await startStep({ module: 'groups.mjs' }, ctx);
      const out: string[] = [];
      const drained = (async () => {
        for await (const batch of reduce.output) out.push(...batch);
      })();
      await feed(reduce);
      await reduce.end();
      await drained;
      await reduce.done;
      return out;
    };
    // The step trusts the index: here it says the second 'a' line starts a group of its own.
    const block = Buffer.from('a\t1\na\t2\nb\n', 'latin1');
    const index = { keyEnds: Int32Array.of(~1, ~5, ~9), ends: Int32Array.of(3, 7, 9) };
    expect(await run((s) => s.writeBytes!(block, index, 3))).toEqual(['a\t1:1', 'a\t1:2', 'b\t1:']);
    // Blocks of the merge (reused, groups across blocks, non-ASCII, no tab, empty keys) as a reducer gets them.
    const lines = [rec('é\t1'), rec('é\tü'), '\t', '\tempty key', 'c', 'c\tx\ty', ...Array.from({ length: 120_000 }, (_, i) => `k${Math.floor(i / 4)}\t${i % 3}`)];
    const sorted = [...lines].sort((x, y) => Buffer.compare(Buffer.from(x.split('\t')[0]!, 'latin1'), Buffer.from(y.split('\t')[0]!, 'latin1')));
    const halves = [sorted.filter((_, i) => i % 2 === 0), sorted.filter((_, i) => i % 2 === 1)];
    const sources = () => halves.map(async function* (h) {
      yield Buffer.from(h.map((l) => `${l}\n`).join(''), 'latin1');
    });
    const indexed = await run(async (s) => {
      let blocks = 0;
      for await (const b of mergeSortedBytes(sources(), { lineIndex: true, reuseBlocks: true })) {
        await s.writeBytes!(b.bytes, b.index, b.lines);
        blocks++;
      }
      expect(blocks).toBeGreaterThan(1);
    });
    const scanned = await run(async (s) => {
      for await (const b of mergeSortedBytes(sources())) await s.writeBytes!(b.bytes);
    });
    expect(indexed).toEqual(scanned);
    expect(indexed.length).toBe(30_000 + 3);
    expect(indexed.slice(0, 3)).toEqual(['\t2:|empty key', 'c\t2:|x\ty', 'k0\t4:0|2|1|0']);
  });

  it('gives a reducer\'s output as byte blocks with record counts when asked, the same as its line batches', async () => {
    const ctx = { role: 'reduce' as const, workDir: dir, env: {}, noProgressTimeoutMs: 5000, onCounter: () => {}, onStatus: () => {} };
    const input = Buffer.from(rec('a\t1\nb\tü\nb\t2\n日本\t3\n'), 'latin1');
    const lines = await runStep({ module: 'utf8.mjs' }, { role: 'reduce', workDir: dir, input: [input] });
    expect(lines.error).toBeUndefined();
    const reduce = await startStep({ module: 'utf8.mjs' }, ctx);
    const blocks = reduce.recordOutput!();
    const got: Buffer[] = [];
    let records = 0;
    const drained = (async () => {
      for await (const b of blocks) {
        got.push(b.bytes);
        records += b.length;
      }
    })();
    await reduce.writeBytes!(input);
    await reduce.end();
    await drained;
    await reduce.done;
    expect(records).toBe(lines.out.length);
    expect(Buffer.concat(got).toString('latin1')).toBe(lines.out.map((l) => `${l}\n`).join(''));
  });

  it('takes bytes only where it groups: a module mapper has no writeBytes', async () => {
    const map = await startStep({ module: 'wc.mjs' }, { role: 'map', workDir: dir, env: {}, noProgressTimeoutMs: 1000, onCounter: () => {}, onStatus: () => {} });
    expect('writeBytes' in map).toBe(false);
    await map.end();
    for await (const _ of map.output) void _;
    await map.done;
  });

  it('hands the lines of a batch the split reader marked ASCII to the mapper as they are (no per-line check)', async () => {
    // A marked batch is ASCII by contract; a latin1 line in one shows that it was not decoded.
    const marked = [rec('é'), 'ab'];
    markAsciiBatch(marked);
    const map = await runStep({ module: 'utf8.mjs' }, { workDir: dir, input: [marked, [rec('é')]] });
    expect(map.error).toBeUndefined();
    // 'é' is 2 latin1 chars undecoded (emitted as their UTF-8), 1 char decoded.
    expect(map.out).toEqual([`${rec(rec('é'))}\t2 chars`, 'ab\t2 chars', rec('é\t1 chars')]);
  });

  it('decodes UTF-8 for user code and encodes emitted text back, leaving other bytes as U+FFFD', async () => {
    const map = await runStep(
      { module: 'utf8.mjs' },
      { workDir: dir, input: [[rec('naïve café'), rec('日本語'), 'plain', '\xff\xfe']] },
    );
    expect(map.error).toBeUndefined();
    expect(map.out).toEqual([
      rec('naïve café\t10 chars'),
      rec('日本語\t3 chars'),
      'plain\t5 chars',
      rec('\ufffd\ufffd\t2 chars'),
    ]);
    const reduce = await runStep(
      { module: 'utf8.mjs' },
      { role: 'reduce', workDir: dir, input: [[rec('ключ\tα'), rec('ключ\tβ')], ['k\tv']] },
    );
    expect(reduce.out).toEqual([rec('ключ→\t4:α·β'), rec('k→\t1:v')]);
  });

  it('passes counters, status and task facts, and finds functions on the default export', async () => {
    const r = await runStep(
      { module: 'context.mjs' },
      { workDir: dir, input: [['ab', 'c']], env: { MY_SETTING: 'on' } },
    );
    expect(r.error).toBeUndefined();
    expect(r.out).toEqual(['ab\tjob-1 m-00000 s3://in/data.txt on', 'c\tjob-1 m-00000 s3://in/data.txt on']);
    expect(r.counters).toEqual([
      ['Fixture', 'Lines', 1],
      ['Fixture', 'Chars', 2],
      ['Fixture', 'Lines', 1],
      ['Fixture', 'Chars', 1],
    ]);
    expect(r.statuses).toEqual(['at ab', 'at c']);
  });

  it('flushes output in batches of about 8k lines, in order, with a slow consumer', async () => {
    const input = Array.from({ length: 10 }, (_, b) => Array.from({ length: 3000 }, (_, i) => `w${b} x${i} y`));
    const r = await runStep(
      { module: 'wc.mjs' },
      { workDir: dir, input, onBatch: () => new Promise((res) => setImmediate(res)) },
    );
    expect(r.error).toBeUndefined();
    expect(r.out).toHaveLength(90_000);
    expect(r.out.slice(0, 4)).toEqual(['w0\t1', 'x0\t1', 'y\t1', 'w0\t1']);
    expect(r.out.at(-1)).toBe('y\t1');
    expect(r.batches).toBeLessThan(30);
  });

  it('fails with the stack of an exception thrown by user code', async () => {
    const r = await runStep(
      { module: 'throws.mjs' },
      { workDir: dir, input: [['fine'], ['also fine', 'boom', 'never']] },
    );
    expect(r.error).toBeInstanceOf(TaskFailedError);
    expect(r.error).not.toBeInstanceOf(PoisonTaskError);
    const err = r.error as TaskFailedError;
    expect(err.message).toBe('mapper module "throws.mjs" threw: cannot handle boom');
    expect(err.stderrTail).toMatch(/^RangeError: cannot handle boom\n\s+at map \(.*throws\.mjs/);
    expect(r.writeError).toBe(err);
    expect(r.outputError).toBe(err);

    const async = await runStep({ module: 'throws.mjs' }, { role: 'reduce', workDir: dir, input: [['k\tv']] });
    expect((async.error as Error).message).toBe('reducer module "throws.mjs" threw: async failure for k');
  });

  it('refuses an emitted newline', async () => {
    const r = await runStep({ module: 'newline.mjs' }, { workDir: dir, input: [['a']] });
    expect(r.error).toBeInstanceOf(TaskFailedError);
    expect((r.error as Error).message).toMatch(/must not contain a newline/);
  });

  it('fails a step whose promise never settles after the no-progress timeout', async () => {
    const started = Date.now();
    const r = await runStep({ module: 'hang.mjs' }, { workDir: dir, input: [['x']], timeoutMs: 300 });
    expect(r.error).toBeInstanceOf(TaskFailedError);
    expect((r.error as Error).message).toMatch(/stopped after 0.3 s without progress/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('rejects with the abort reason when the signal aborts', async () => {
    const ac = new AbortController();
    const ctx: StepContext = {
      role: 'map',
      workDir: dir,
      env: {},
      noProgressTimeoutMs: 60_000,
      onCounter: () => {},
      onStatus: () => {},
      signal: ac.signal,
    };
    const running = await startStep({ module: 'hang.mjs' }, ctx);
    const write = running.write(['x']);
    const reason = new Error('lease lost');
    ac.abort(reason);
    await expect(write).rejects.toBe(reason);
    await expect(running.done).rejects.toBe(reason);
  });

  it('rejects missing modules, missing exports and broken modules as poison', async () => {
    const load = (file: string, role: 'map' | 'reduce' | 'combine') =>
      loadModuleFunction(dir, file, role).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    const noMap = await load('reduce_only.mjs', 'map');
    expect(noMap).toBeInstanceOf(PoisonTaskError);
    expect(noMap?.message).toBe('mapper module "reduce_only.mjs" has no "map" export; it exports: reduce');
    const noCombine = await load('reduce_only.mjs', 'combine');
    expect(noCombine?.message).toMatch(/no "combine" export \(to reuse the reducer: export const combine = reduce\)/);
    const missing = await load('nope.mjs', 'reduce');
    expect(missing).toBeInstanceOf(PoisonTaskError);
    expect(missing?.message).toBe(`reducer module "nope.mjs" not found in the job's files: ship it with "files"`);
    await expect(startStep({ module: 'reduce_only.mjs' }, ctxFor(dir))).rejects.toBeInstanceOf(PoisonTaskError);
  });

  it('rejects a module with a syntax error as poison (in plain Node, outside the vitest module loader)', async () => {
    await writeFile(join(dir, 'broken.mjs'), 'export function map(line, ctx) {\n  ctx.emit(line,\n');
    const script = `
      const { loadModuleFunction } = await import(${JSON.stringify(pathToFileURL(join(FIXTURES, '..', '..', '..', 'worker', 'step', 'module-support.ts')).href)});
      const err = await loadModuleFunction(${JSON.stringify(dir)}, 'broken.mjs', 'map').then(() => undefined, (e) => e);
      console.log(JSON.stringify({ name: err?.name, message: err?.message }));`;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: join(FIXTURES, '..', '..', '..'),
    });
    expect(child.stderr).toBe('');
    const broken = JSON.parse(child.stdout) as { name: string; message: string };
    expect(broken.name).toBe('PoisonTaskError');
    expect(broken.message).toMatch(/^mapper module "broken.mjs" could not be loaded: /);
  });
});

function ctxFor(workDir: string): StepContext {
  return { role: 'map', workDir, env: {}, noProgressTimeoutMs: 1000, onCounter: () => {}, onStatus: () => {} };
}

describe('groupCombinerFromModule', () => {
  it('combines one group of latin1 values into latin1 lines', async () => {
    const counters: string[] = [];
    const combine = groupCombinerFromModule(await loadModuleFunction(dir, 'wc.mjs', 'combine'), {
      env: {},
      onCounter: (g, n) => counters.push(`${g}.${n}`),
      onStatus: () => {},
    });
    expect(combine('the', ['1', '2', '3'])).toEqual(['the\t6']);
    expect(combine('a', ['1'])).toEqual(['a\t1']);
    const utf8 = groupCombinerFromModule(await loadModuleFunction(dir, 'utf8.mjs', 'combine'), ctxFor(dir));
    expect(utf8(rec('ключ'), [rec('α'), 'b'])).toEqual([rec('ключ\tα+b')]);
  });

  it('hands a group known to be ASCII to user code as it is, and decodes any other', async () => {
    const seen: Array<[string, string[]]> = [];
    const combine = groupCombinerFromModule((key, values, ctx) => {
      const vs = [...values];
      seen.push([key, vs]);
      ctx.emit(key, vs.join('+'));
    }, ctxFor(dir));
    const values = ['1', '2'];
    expect(combine('k', values, true)).toEqual(['k\t1+2']);
    expect(combine(rec('ключ'), [rec('α'), 'b'], false)).toEqual([rec('ключ\tα+b')]);
    expect(combine(rec('ключ'), [rec('α')])).toEqual([rec('ключ\tα')]);
    expect(seen).toEqual([['k', ['1', '2']], ['ключ', ['α', 'b']], ['ключ', ['α']]]);
  });

  it('fails on an exception or an async combiner', async () => {
    const throwing = groupCombinerFromModule(() => {
      throw new Error('bad combine');
    }, ctxFor(dir));
    expect(() => throwing('k', ['v'])).toThrow(TaskFailedError);
    expect(() => throwing('k', ['v'])).toThrow('combiner threw: bad combine');
    const asyncCombine = groupCombinerFromModule(
      await loadModuleFunction(dir, 'async_combine.mjs', 'combine'),
      ctxFor(dir),
    );
    expect(() => asyncCombine('k', ['v'])).toThrow(/must be synchronous/);
  });
});

describe('record conversion', () => {
  it('leaves ASCII alone and converts everything else between latin1 records and UTF-8 text', () => {
    expect(latin1ToText('abc\t1')).toBe('abc\t1');
    expect(latin1ToText(rec('été'))).toBe('été');
    expect(textToLatin1('été')).toBe(rec('été'));
    expect(encodeRecord('k', 'v')).toBe('k\tv');
    expect(encodeRecord('日', 'ü')).toBe(rec('日\tü'));
    expect(() => encodeRecord('a\nb', 'v')).toThrow(TypeError);
    expect(() => encodeRecord('é', 'x\ny')).toThrow(TypeError);
  });
});
