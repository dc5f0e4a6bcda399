import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { RETAINED_HEAP_TUNABLES, WORKER_GLIBC_TUNABLES_ENV, workerMallocEnv } from './worker-malloc.js';

describe('workerMallocEnv', () => {
  it('gives a worker the tunables its launcher names, none by default', () => {
    expect(workerMallocEnv({})).toEqual({});
    expect(workerMallocEnv({ [WORKER_GLIBC_TUNABLES_ENV]: '' })).toEqual({});
    expect(workerMallocEnv({ [WORKER_GLIBC_TUNABLES_ENV]: RETAINED_HEAP_TUNABLES })).toEqual({ GLIBC_TUNABLES: RETAINED_HEAP_TUNABLES });
  });

  // glibc ignores a tunable it does not know: check that this glibc reads both, with their values.
  const loader = process.platform === 'linux' ? readFileSync('/proc/self/maps', 'utf8').match(/\S*\/ld-linux[^\s]*\.so\.\d+/)?.[0] : undefined;
  if (!loader) console.log('worker-malloc: no glibc dynamic loader in this process (not glibc Linux): the tunables check is skipped');
  it.runIf(loader)('RETAINED_HEAP_TUNABLES names two tunables this glibc knows, both thresholds at 1 MiB', () => {
    const tunables = RETAINED_HEAP_TUNABLES.split(':').map((t) => t.split('='));
    expect(tunables.map(([name]) => name).sort()).toEqual(['glibc.malloc.mmap_threshold', 'glibc.malloc.trim_threshold']);
    expect(tunables.map(([, v]) => Number(v))).toEqual([1024 * 1024, 1024 * 1024]);
    // The same names with distinct values: the loader lists what it read (it ignores a name it does not know).
    const probe = tunables.map(([name], i) => `${name}=${i + 5}`).join(':');
    const listed = spawnSync(loader!, ['--list-tunables'], { env: { GLIBC_TUNABLES: probe }, encoding: 'utf8' }).stdout;
    for (const [i, [name]] of tunables.entries()) {
      expect(listed).toMatch(new RegExp(`^${name!.replaceAll('.', '\\.')}: 0x${(i + 5).toString(16)} `, 'm'));
    }
  });
});
