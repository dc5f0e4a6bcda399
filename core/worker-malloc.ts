/**
 * glibc's malloc settings for a worker process, opt-in. A launcher (the local stack) puts
 * `MR_WORKER_GLIBC_TUNABLES` into the worker's environment as GLIBC_TUNABLES, which glibc
 * reads once, when the process starts. An executable step does not inherit it (it gets only
 * PATH, HOME and TMPDIR: worker/step/child-env.ts); a module step runs in the worker.
 *
 * What it trades: by default glibc raises its mmap threshold each time a block it had
 * mmapped is freed (up to 32 MiB), and its trim threshold to twice that, so the main heap
 * and each thread's arena keep up to 64 MiB of freed memory. A worker that has run ~1,000
 * tiny map tasks holds ~10 MiB more RSS than one that ran 8 for that reason alone.
 * `RETAINED_HEAP_TUNABLES` (both thresholds fixed, which turns the raise off) gave that back
 * (reduce start at M = 512: 107.5 against 116.9 MiB) but made the map side mmap and fault
 * in its buffers again: TeraSort 64 MiB took +0.16 to +0.30 worker CPU-seconds (+4 to 8 %)
 * in each of five back-to-back pairs, at 128 KiB and at 1 MiB alike (docs/performance.md,
 * `scale_curve`). So no worker gets it by default: RSS is not what Fargate bills (the
 * task's reserved memory is), CPU is.
 */

/** Thresholds fixed at 1 MiB: returns a busy worker's freed heap, at a CPU cost (above). */
export const RETAINED_HEAP_TUNABLES = 'glibc.malloc.trim_threshold=1048576:glibc.malloc.mmap_threshold=1048576';

/** Launcher setting: the GLIBC_TUNABLES its workers start with (unset or empty: none, glibc's defaults). */
export const WORKER_GLIBC_TUNABLES_ENV = 'MR_WORKER_GLIBC_TUNABLES';

/** The GLIBC_TUNABLES entry of a worker's environment, from the launcher's environment. */
export function workerMallocEnv(launcherEnv: Readonly<Record<string, string | undefined>>): Record<string, string> {
  const tunables = launcherEnv[WORKER_GLIBC_TUNABLES_ENV];
  return tunables ? { GLIBC_TUNABLES: tunables } : {};
}
