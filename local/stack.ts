/**
 * The embedded local stack: the same coordinator and checker code as the Lambdas,
 * driven in-process by a submissions-queue poller and a timer (the emulator cannot
 * invoke Lambdas or fire schedules), plus N worker child processes (it cannot run ECS).
 */
import { WATCH_PARENT_ENV } from '../worker/parent-watch.js';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapLocalStack } from './bootstrap.js';
import { type AwsClients, createClients, destroyClients } from '../aws/clients.js';
import { type EmulatorHandle, ensureEmulator, stopProcess } from './emulator.js';
import { LOCAL_FILES_ENV, namesToEnv, type Timings, timingsToEnv } from '../core/config.js';
import { LOCAL_WORKER_MEMORY_MIB, recycledWorkerNodeArgs, WORKER_HEAP_ENV, WORKER_MEMORY_ENV, workerNodeArgs } from '../core/worker-heap.js';
import { localResourceNames, type ResourceNames } from '../core/resources.js';
import { sweepUntil } from '../services/checker.js';
import { createServices, type Services, silentLog } from '../services/context.js';
import { isTransient } from '../core/errors.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { workerMallocEnv } from '../core/worker-malloc.js';
import { handleSubmission } from '../services/coordinator.js';
import { CONTROL_BARRIER_ENV } from '../services/control-barrier.js';
import { WORKER_RECYCLE_EXIT_CODE, workerRecycleEnv } from '../core/worker-recycle.js';

export interface LocalStackOptions {
  readonly endpoint: string;
  /** Resource name prefix; unique per test so tests never share state. */
  readonly prefix: string;
  readonly workers: number;
  readonly timings: Timings;
  /** Start moto when nothing answers on the endpoint (stopped again by stop()). */
  readonly startEmulator?: boolean;
  /** Directory for worker logs and scratch space; defaults to a temp dir. */
  readonly stateDir: string;
  /** Extra environment for worker processes (e.g. MR_SORT_BUFFER_BYTES). */
  readonly workerEnv?: Record<string, string>;
  /** Extra Node options for worker processes, e.g. `--cpu-prof` (which NODE_OPTIONS refuses). */
  readonly workerNodeArgs?: readonly string[];
  readonly log?: Services['log'];
  /**
   * Replace worker processes that exit while the stack runs (`local up` does), with
   * backoff (workerRestartDelayMs) and at most MAX_QUICK_RESTARTS quick deaths in a row.
   * Off for tests that kill workers and count them. A worker that exits to be recycled
   * (WORKER_RECYCLE_EXIT_CODE) is replaced at once either way.
   */
  readonly superviseWorkers?: boolean;
}

/** A replaced worker that dies again within this long counts as a quick death. */
export const QUICK_DEATH_MS = 30_000;
/** Quick deaths in a row of one worker slot after which the stack stops replacing it. */
export const MAX_QUICK_RESTARTS = 8;
/** Delay before replacing a worker: 250 ms, doubled per quick death in a row, at most 15 s. */
export function workerRestartDelayMs(quickDeaths: number): number {
  return Math.min(15_000, 250 * 2 ** quickDeaths);
}

/**
 * Test hooks passed from the stack's environment to its workers (integration tests only;
 * see services/control-barrier.ts and worker/backup-attempt.ts), and MR_MAP_SIDE_BYTES (=false
 * turns the byte map side off, core/config.ts), so that the bench can compare both on a local stack.
 */
const PASSED_TEST_HOOKS = [CONTROL_BARRIER_ENV, 'MR_MAP_SIDE_BYTES'];

/** The package root (where bin/mapreduce.js lives), from source or from dist/. */
export function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir);
    if (up === dir) throw new Error('Cannot find the package root');
    dir = up;
  }
  return dir;
}

export class LocalStack {
  readonly names: ResourceNames;
  readonly services: Services;
  readonly workerProcesses: ChildProcess[] = [];
  private readonly stopping = new AbortController();
  private readonly loops: Promise<unknown>[] = [];
  private workerSeq = 0;
  /** Workers that exited to be recycled (core/worker-recycle.ts), each replaced at once. */
  recycledWorkers = 0;
  /** Quick deaths in a row, per worker slot (the slot is kept by its replacements). */
  private readonly quickDeaths = new Map<number, number>();

  private constructor(
    readonly options: LocalStackOptions,
    private readonly clients: AwsClients,
    private readonly emulator: EmulatorHandle | undefined,
  ) {
    this.names = localResourceNames(options.prefix);
    // A local stack reads `file://` inputs: its coordinator and workers run on this machine.
    this.services = createServices(clients, this.names, options.timings, options.log ?? silentLog, Date.now, undefined, {
      localFiles: true,
    });
  }

  /** Start the emulator if asked, create the resources, and start coordinator, checker and workers. */
  static async start(o: LocalStackOptions): Promise<LocalStack> {
    const emulator = o.startEmulator ? await ensureEmulator({ endpoint: o.endpoint }) : undefined;
    const clients = createClients({ endpoint: o.endpoint, region: 'us-east-1' });
    const stack = new LocalStack(o, clients, emulator);
    try {
      await bootstrapLocalStack(clients, stack.names);
      mkdirSync(o.stateDir, { recursive: true });
      stack.loops.push(stack.coordinatorLoop(), stack.checkerLoop());
      for (let i = 0; i < o.workers; i++) stack.spawnWorker(i);
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  /**
   * The environment a worker process needs to join this stack. It holds no credentials:
   * against an emulator endpoint the SDK clients use the emulator's dummy keys from code
   * (aws/clients.ts), so job code reading the worker's environment (a module's
   * `process.env`, an executable's `/proc/<ppid>/environ`) finds no key.
   */
  workerEnvironment(): Record<string, string> {
    return {
      ...namesToEnv(this.names),
      ...timingsToEnv(this.options.timings),
      AWS_ENDPOINT_URL: this.options.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      MR_SCRATCH_DIR: path.join(this.options.stateDir, 'scratch'),
      [LOCAL_FILES_ENV]: 'true',
      ...Object.fromEntries(PASSED_TEST_HOOKS.flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : []))),
      ...(this.options.workerEnv ?? {}),
    };
  }

  /**
   * Start one more worker process; its JSON logs go to `<stateDir>/worker-N.log`. It holds
   * an IPC channel to this process and stops when the channel closes (worker/main.ts), so
   * a SIGKILLed stack leaves no worker behind. `slot` is the supervised slot it fills;
   * `recycled`: it replaces a recycled worker (core/worker-heap.ts `recycledWorkerNodeArgs`).
   */
  spawnWorker(slot = this.workerSeq, recycled = false): ChildProcess {
    const n = this.workerSeq++;
    const log = openSync(path.join(this.options.stateDir, `worker-${n}.log`), 'a');
    // WATCH_PARENT_ENV: the worker knows it was started with the channel, even if the channel closed before it looked.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...workerMallocEnv(process.env), // MR_WORKER_GLIBC_TUNABLES, opt-in (core/worker-malloc.ts)
      ...workerRecycleEnv(process.env), // MR_WORKER_RECYCLE_*, the stack's own settings (options.workerEnv overrides)
      ...this.workerEnvironment(),
      [WATCH_PARENT_ENV]: '1',
    };
    // The default heap limit of core/worker-heap.ts, sized for MR_WORKER_MEMORY_MIB (worker or stack environment) or a small container.
    const heapEnv = { [WORKER_HEAP_ENV]: process.env[WORKER_HEAP_ENV], [WORKER_MEMORY_ENV]: process.env[WORKER_MEMORY_ENV], ...env };
    const heapArgs = workerNodeArgs(this.options.workerNodeArgs ?? [], heapEnv, LOCAL_WORKER_MEMORY_MIB);
    const nodeArgs = recycled ? recycledWorkerNodeArgs(heapArgs) : heapArgs;
    const child = spawn(process.execPath, [...nodeArgs, path.join(packageRoot(), 'bin', 'mapreduce.js'), 'worker'], {
      env,
      stdio: ['ignore', log, log, 'ipc'],
    });
    closeSync(log);
    // The channel must not keep this process alive, nor its messages matter: it only tells the child we are gone.
    child.channel?.unref();
    this.workerProcesses.push(child);
    const started = Date.now();
    child.once('exit', (code, signal) => {
      // A recycle is the worker asking to be replaced between tasks: always, at once, even
      // in a stack that does not supervise (it would otherwise lose a worker mid-job).
      if (code === WORKER_RECYCLE_EXIT_CODE) this.replaceRecycled(slot, child.pid);
      else if (this.options.superviseWorkers) this.replace(slot, child.pid, Date.now() - started, code, signal);
    });
    return child;
  }

  /** A worker exited to be recycled: start another now; its slot's quick deaths start over. */
  private replaceRecycled(slot: number, pid: number | undefined): void {
    if (this.stopping.signal.aborted) return;
    this.recycledWorkers++;
    this.quickDeaths.set(slot, 0);
    const next = this.spawnWorker(slot, true);
    this.services.log.info(LOG_EVENTS.localWorkerRecycled, { slot, pid: next.pid, replaced: pid });
  }

  /** A supervised worker exited while the stack runs: log it and start another, with backoff. */
  private replace(slot: number, pid: number | undefined, ranMs: number, code: number | null, signal: string | null): void {
    if (this.stopping.signal.aborted) return;
    const quick = ranMs < QUICK_DEATH_MS ? (this.quickDeaths.get(slot) ?? 0) + 1 : 0;
    this.quickDeaths.set(slot, quick);
    const log = this.services.log;
    if (quick > MAX_QUICK_RESTARTS) {
      log.error(LOG_EVENTS.localWorkerGivenUp, { slot, pid, code, signal, quickDeaths: quick - 1 });
      return;
    }
    const delayMs = workerRestartDelayMs(Math.max(0, quick - 1));
    log.warn(LOG_EVENTS.localWorkerExited, { slot, pid, code, signal, restartInMs: delayMs });
    const timer = setTimeout(() => {
      if (this.stopping.signal.aborted) return;
      const next = this.spawnWorker(slot);
      log.info(LOG_EVENTS.localWorkerReplaced, { slot, pid: next.pid, replaced: pid });
    }, delayMs);
    this.stopping.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });
  }

  /** Workers that have not exited. */
  liveWorkers(): ChildProcess[] {
    return this.workerProcesses.filter((c) => c.exitCode === null && c.signalCode === null);
  }

  private async coordinatorLoop(): Promise<void> {
    const s = this.services;
    const signal = this.stopping.signal;
    await this.resumePlans();
    while (!signal.aborted) {
      try {
        // Not aborted on stop (a message handed to an abandoned poll stays hidden 120 s): 1 s at most.
        const msg = await s.submissionQueue.receiveOne(1);
        if (!msg) continue;
        if (signal.aborted) {
          await s.submissionQueue.setVisibility(msg.receiptHandle, 0);
          return;
        }
        try {
          await handleSubmission(s, msg.body);
        } catch (err) {
          // Like the Lambda: only a transient failure is retried; a poison message is dropped with a log line.
          if (isTransient(err) || signal.aborted) throw err;
          s.log.error(LOG_EVENTS.submissionDropped, { error: err as Error });
        }
        await s.submissionQueue.delete(msg.receiptHandle);
      } catch (err) {
        if (signal.aborted) return;
        s.log.error(LOG_EVENTS.localCoordinatorFailed, { error: err as Error });
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  /**
   * Jobs left CREATING by a coordinator that died (this stack's last run was killed while
   * planning): this stack is its prefix's only coordinator, so it resumes each plan now
   * instead of waiting for the submission message's visibility timeout (120 s).
   */
  private async resumePlans(): Promise<void> {
    const s = this.services;
    try {
      for (const job of await s.jobs.listActive()) {
        if (job.status !== 'CREATING') continue;
        s.log.warn(LOG_EVENTS.localPlanResumed, { jobId: job.jobId });
        await handleSubmission(s, JSON.stringify({ kind: 'plan', jobId: job.jobId }));
      }
    } catch (err) {
      // The redelivered submission resumes it anyway, later.
      s.log.error(LOG_EVENTS.localCoordinatorFailed, { error: err as Error });
    }
  }

  private checkerLoop(): Promise<number> {
    const runId = `local-${randomBytes(4).toString('hex')}`;
    return sweepUntil(this.services, runId, Number.POSITIVE_INFINITY, this.stopping.signal);
  }

  /** Stop workers (SIGTERM, then SIGKILL), the loops, and the emulator if this stack started it. */
  async stop(): Promise<void> {
    this.stopping.abort();
    // A stopping worker lets its long poll return (to release what it received): allow for it.
    const graceMs = 10_000 + this.options.timings.pollWaitSeconds * 1000;
    await Promise.all(this.workerProcesses.map((c) => stopProcess(c, graceMs)));
    await Promise.allSettled(this.loops);
    destroyClients(this.clients);
    await this.emulator?.stop();
  }
}
