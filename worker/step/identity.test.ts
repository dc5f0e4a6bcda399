import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startExecutableStep } from './executable.js';
import { isIdentityCommand, startIdentityStep } from './identity.js';
import type { RunningStep, StepContext } from './types.js';

async function runAll(step: RunningStep, batches: string[][]): Promise<string[]> {
  const out: string[] = [];
  const drained = (async () => {
    for await (const b of step.output) out.push(...b);
  })();
  for (const b of batches) await step.write(b);
  await step.end();
  await drained;
  await step.done;
  return out;
}

describe('identity step (`cat` without a process)', () => {
  const workDir = mkdtempSync(path.join(tmpdir(), 'identity-'));
  const ctx: StepContext = { role: 'map', workDir, env: {}, noProgressTimeoutMs: 10_000, onCounter: () => {}, onStatus: () => {} };
  const input = [['a\tb', '', 'key only', 'x\ty\tz'], ['\u00e9\u00ff latin1', '\ttab first', 'trailing\t'], []];

  it('gives exactly what running /bin/cat gives', async () => {
    const real = await runAll(await startExecutableStep('cat', ctx), input);
    const free = await runAll(startIdentityStep(ctx), input);
    expect(free).toEqual(real);
    expect(free).toEqual(input.flat());
  });

  it('only plain `cat`, and not when a shipped file is named cat', () => {
    expect(isIdentityCommand(' cat ', workDir)).toBe(true);
    expect(isIdentityCommand('cat -n', workDir)).toBe(false);
    const shipped = mkdtempSync(path.join(tmpdir(), 'identity-shipped-'));
    writeFileSync(path.join(shipped, 'cat'), '#!/bin/sh\n');
    expect(isIdentityCommand('cat', shipped)).toBe(false);
  });

  it('an abort ends it with the abort reason', async () => {
    const ac = new AbortController();
    const step = startIdentityStep({ signal: ac.signal });
    const reason = new Error('lease lost');
    ac.abort(reason);
    await expect(step.done).rejects.toBe(reason);
    await expect(step.write(['a'])).rejects.toBe(reason);
  });
});
