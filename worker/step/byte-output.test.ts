import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { linesOf } from '../../core/byte-merge.js';
import { mulberry32 as prng } from '../../core/prng.js';
import { encodeLines } from '../../core/records.js';
import { expectNoLeftoverProcesses, makeWorkDir, removeWorkDir, trackPid } from '../../test/fixtures/worker/harness.js';
import { startStep } from './index.js';
import type { RunningStep, StepContext } from './types.js';

let dir: string;
beforeEach(async () => {
  dir = await makeWorkDir();
});
afterEach(async () => {
  await expectNoLeftoverProcesses();
  await removeWorkDir(dir);
});

const ctx = (): StepContext => ({
  role: 'map',
  workDir: dir,
  env: {},
  noProgressTimeoutMs: 30_000,
  onCounter: () => {},
  onStatus: () => {},
});

/** Feed string batches and collect the byte output's blocks. */
async function runBytes(running: RunningStep, input: (string[] | Buffer)[]): Promise<Buffer[]> {
  const feed = (async () => {
    for (const b of input) await (Buffer.isBuffer(b) ? running.writeBytes!(b) : running.write(b));
    await running.end();
  })();
  const blocks: Buffer[] = [];
  for await (const block of running.byteOutput!()) blocks.push(Buffer.from(block));
  await Promise.all([feed, running.done]);
  return blocks;
}

/** Random output bytes: any byte but '\n' in lines, empty lines, and no '\n' at the very end. */
function randomOutput(rnd: () => number): Buffer {
  const parts: number[] = [];
  for (let i = 0; i < 3000; i++) {
    const len = rnd() < 0.1 ? 0 : Math.floor(rnd() * 200);
    for (let j = 0; j < len; j++) {
      const c = Math.floor(rnd() * 256);
      parts.push(c === 10 ? 9 : c);
    }
    parts.push(10);
  }
  parts.push(65, 66, 0xff); // a last line without '\n'
  return Buffer.from(parts);
}

describe('byte output of steps', () => {
  it("an executable's stdout comes as blocks of whole lines, whatever the pipe's chunking, equal to its line output", async () => {
    const rnd = prng(42);
    const bytes = randomOutput(rnd);
    await writeFile(join(dir, 'out.bin'), bytes);
    // Writes its output in random pieces (each a separate pipe write), flushing as it goes.
    const script = `const fs = require('fs'); const b = fs.readFileSync('out.bin'); let p = 0; let s = 7;
      while (p < b.length) { s = (s * 1103515245 + 12345) % 2147483648; const n = 1 + (s % 5000); fs.writeSync(1, b.subarray(p, p + n)); p += n; }`;
    await writeFile(join(dir, 'pieces.js'), script);
    const command = `${process.execPath} pieces.js`;

    const running = await startStep(command, ctx());
    trackPid(running.pid);
    const blocks = await runBytes(running, []);
    expect(blocks.length).toBeGreaterThan(1);
    for (const b of blocks) expect(b[b.length - 1]).toBe(10);
    // The same bytes, with the last line given its '\n'.
    expect(Buffer.concat(blocks)).toEqual(Buffer.concat([bytes, Buffer.from('\n')]));

    const again = await startStep(command, ctx());
    trackPid(again.pid);
    const lines: string[] = [];
    const done = (async () => {
      await again.end();
      for await (const batch of again.output) lines.push(...batch);
    })();
    await Promise.all([done, again.done]);
    expect(linesOf(Buffer.concat(blocks))).toEqual(lines);
  });

  it('the identity cat hands bytes written as bytes on untouched, and converts the other pairings', async () => {
    const block = Buffer.from('b\t1\n\xff\x00\ta\n\n', 'latin1');
    const id = await startStep('cat', ctx());
    const out = await runBytes(id, [block, ['x\ty', ''], block]);
    expect(out[0]).toEqual(block);
    expect(Buffer.concat(out)).toEqual(Buffer.concat([block, encodeLines(['x\ty', '']), block]));

    const id2 = await startStep('cat', ctx());
    const lines: string[] = [];
    const feed = (async () => {
      await id2.writeBytes!(block);
      await id2.write(['z']);
      await id2.end();
    })();
    for await (const batch of id2.output) lines.push(...batch);
    await Promise.all([feed, id2.done]);
    expect(lines).toEqual(['b\t1', '\xff\x00\ta', '', 'z']);
  });
});
