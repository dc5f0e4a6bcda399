/**
 * glibc's malloc settings for a worker process. The launcher (the local stack, the ECS task
 * definition) puts them in the worker's environment as GLIBC_TUNABLES, which glibc reads
 * once, when the process starts. An executable step does not inherit them (it gets only
 * PATH, HOME and TMPDIR: worker/step/child-env.ts); a module step runs in the worker.
 *
 * Why: glibc raises its mmap threshold each time a large block that it had mmapped is
 * freed (up to 32 MiB), and its trim threshold to twice that, so after the map side's
 * staging buffers and upload reads a worker's heap and thread arenas keep up to 64 MiB of
 * freed memory each instead of giving it back. A worker that has run ~1,000 tiny map tasks
 * held 6-7 MiB more brk heap and ~5 MiB more thread arenas than one that ran 8
 * (docs/performance.md, `scale_curve`). Setting both thresholds fixes them at glibc's
 * defaults (128 KiB), which also turns the dynamic raise off: freed memory above 128 KiB at
 * the top of a heap is returned, and blocks of 128 KiB and more are mmapped and unmapped.
 * The measured cost of the extra mmaps is in docs/performance.md next to the figures.
 */

/** The tunables a worker starts with, unless MR_WORKER_GLIBC_TUNABLES says otherwise. */
export const WORKER_GLIBC_TUNABLES = 'glibc.malloc.trim_threshold=131072:glibc.malloc.mmap_threshold=131072';

/** Launcher setting: the worker's GLIBC_TUNABLES instead of WORKER_GLIBC_TUNABLES (empty: glibc's defaults). */
export const WORKER_GLIBC_TUNABLES_ENV = 'MR_WORKER_GLIBC_TUNABLES';

/** The GLIBC_TUNABLES entry of a worker's environment, from the launcher's environment. */
export function workerMallocEnv(launcherEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const tunables = launcherEnv[WORKER_GLIBC_TUNABLES_ENV] ?? WORKER_GLIBC_TUNABLES;
  return tunables ? { GLIBC_TUNABLES: tunables } : {};
}
