/**
 * glibc's malloc settings for a worker process. The launcher (the local stack, the ECS task
 * definition) puts them in the worker's environment as GLIBC_TUNABLES, which glibc reads
 * once, when the process starts. An executable step does not inherit them (it gets only
 * PATH, HOME and TMPDIR: worker/step/child-env.ts); a module step runs in the worker.
 *
 * Why: by default glibc raises its mmap threshold each time a block it had mmapped is freed
 * (up to 32 MiB), and its trim threshold to twice that, so the main heap and each thread's
 * arena keep up to 64 MiB of freed memory instead of giving it back, and more blocks land in
 * them to fragment. A worker that had run ~1,000 tiny map tasks held 6-7 MiB more brk heap
 * and ~5 MiB more thread arenas than one that had run 8 (docs/performance.md,
 * `scale_curve`). Setting the thresholds fixes them (and turns the raise off): blocks of
 * 1 MiB and more are mmapped and unmapped when freed, and a heap gives back free memory
 * above 1 MiB at its top. At 1 MiB the map side's buffers (512 KiB blocks, staging buffers
 * up to 1 MiB) stay in the heap, reused without page faults: glibc's default 128 KiB
 * measured the same RSS but ~5 % more worker CPU on TeraSort 64 MiB (figures in
 * docs/performance.md).
 */

/** The tunables a worker starts with, unless MR_WORKER_GLIBC_TUNABLES says otherwise. */
export const WORKER_GLIBC_TUNABLES = 'glibc.malloc.trim_threshold=1048576:glibc.malloc.mmap_threshold=1048576';

/** Launcher setting: the worker's GLIBC_TUNABLES instead of WORKER_GLIBC_TUNABLES (empty: glibc's defaults). */
export const WORKER_GLIBC_TUNABLES_ENV = 'MR_WORKER_GLIBC_TUNABLES';

/** The GLIBC_TUNABLES entry of a worker's environment, from the launcher's environment. */
export function workerMallocEnv(launcherEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const tunables = launcherEnv[WORKER_GLIBC_TUNABLES_ENV] ?? WORKER_GLIBC_TUNABLES;
  return tunables ? { GLIBC_TUNABLES: tunables } : {};
}
