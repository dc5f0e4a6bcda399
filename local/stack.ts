/**
 * The embedded local stack: the same coordinator and checker code as the Lambdas,
 * driven in-process by a submissions-queue poller and a timer (the emulator cannot
 * invoke Lambdas or fire schedules), plus N worker child processes (it cannot run ECS).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bootstrapLocalStack } from './bootstrap.js';
import { type AwsClients, createClients, destroyClients } from '../aws/clients.js';
import { type EmulatorHandle, ensureEmulator, stopProcess } from './emulator.js';
import { LOCAL_FILES_ENV, namesToEnv, type Timings, timingsToEnv } from '../core/config.js';
import { localResourceNames, type ResourceNames } from '../core/resources.js';
import { sweepUntil } from '../services/checker.js';
import { createServices, type Services, silentLog } from '../services/context.js';
import { isTransient } from '../core/errors.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { handleSubmission } from '../services/coordinator.js';

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
  readonly log?: Services['log'];
}

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
      for (let i = 0; i < o.workers; i++) stack.spawnWorker();
    } catch (err) {
      await stack.stop();
      throw err;
    }
    return stack;
  }

  /** The environment a worker process needs to join this stack. */
  workerEnvironment(): Record<string, string> {
    return {
      ...namesToEnv(this.names),
      ...timingsToEnv(this.options.timings),
      AWS_ENDPOINT_URL: this.options.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'test',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      MR_SCRATCH_DIR: path.join(this.options.stateDir, 'scratch'),
      [LOCAL_FILES_ENV]: 'true',
      ...(this.options.workerEnv ?? {}),
    };
  }

  /** Start one more worker process; its JSON logs go to `<stateDir>/worker-N.log`. */
  spawnWorker(): ChildProcess {
    const n = this.workerSeq++;
    const log = openSync(path.join(this.options.stateDir, `worker-${n}.log`), 'a');
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...this.workerEnvironment() };
    const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'mapreduce.js'), 'worker'], {
      env,
      stdio: ['ignore', log, log],
    });
    this.workerProcesses.push(child);
    return child;
  }

  /** Workers that have not exited. */
  liveWorkers(): ChildProcess[] {
    return this.workerProcesses.filter((c) => c.exitCode === null && c.signalCode === null);
  }

  private async coordinatorLoop(): Promise<void> {
    const s = this.services;
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        const msg = await s.submissionQueue.receiveOne(1, signal);
        if (!msg) continue;
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

  private checkerLoop(): Promise<number> {
    const runId = `local-${randomBytes(4).toString('hex')}`;
    return sweepUntil(this.services, runId, Number.POSITIVE_INFINITY, this.stopping.signal);
  }

  /** Stop workers (SIGTERM, then SIGKILL), the loops, and the emulator if this stack started it. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.all(this.workerProcesses.map((c) => stopProcess(c, 10_000)));
    await Promise.allSettled(this.loops);
    destroyClients(this.clients);
    await this.emulator?.stop();
  }
}
