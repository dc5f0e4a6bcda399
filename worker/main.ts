/**
 * The worker entrypoint (`mapreduce worker`, the container's command): read the
 * environment, run the loop, stop gracefully on SIGTERM/SIGINT. Exits with
 * WORKER_RECYCLE_EXIT_CODE when its recycle policy ended the loop (core/worker-recycle.ts).
 */
import { watchParent } from './parent-watch.js';
import { closeSync, openSync, writeSync } from 'node:fs';
import { Logger } from '@aws-lambda-powertools/logger';
import { type CallObserver, createClients, destroyClients } from '../aws/clients.js';
import { RequestCounter } from '../aws/request-counter.js';
import { localFilesFromEnv, namesFromEnv, timingsFromEnv, workerSettingsFromEnv } from '../core/config.js';
import { createServices } from '../services/context.js';
import { emfMetrics } from '../services/metrics.js';
import { callContext } from './heartbeat.js';
import { Worker } from './worker.js';
import { LOG_EVENTS } from '../core/log-events.js';
import { recyclePolicyFromEnv, WORKER_RECYCLE_EXIT_CODE } from '../core/worker-recycle.js';

/** Graceful shutdown must finish within ECS's 30 s stop timeout. */
const SHUTDOWN_DEADLINE_MS = 25_000;

export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const logger = new Logger({ serviceName: 'mapreduce-worker', logLevel: (env.MR_LOG_LEVEL ?? 'INFO') as 'INFO' });
  const callLog = env.MR_CALL_LOG ? openSync(env.MR_CALL_LOG, 'a') : undefined;
  // Counted for each attempt's history (requests by Service.Operation); adds no request.
  const requestCounter = new RequestCounter();
  const clients = createClients(
    { requestCounter, ...(callLog === undefined ? {} : { observer: callLogger(callLog) }) },
    env,
  );
  const metrics = env.MR_EMIT_METRICS === 'false' ? undefined : emfMetrics('mapreduce-worker', env);
  const services = createServices(clients, namesFromEnv(env), timingsFromEnv(env), logger, Date.now, metrics, {
    localFiles: localFilesFromEnv(env),
  });
  const worker = new Worker(services, workerSettingsFromEnv(env), undefined, recyclePolicyFromEnv(env));
  logger.appendKeys({ workerId: worker.workerId });
  const onSignal = (signal: string) => {
    logger.info(LOG_EVENTS.workerStopping, { signal });
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    void worker.stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  watchParent(env, () => {
    logger.warn(LOG_EVENTS.parentGone, { parentPid: process.ppid });
    // Nobody waits for this worker any more: release its task and go, within a few seconds.
    setTimeout(() => process.exit(1), PARENT_GONE_DEADLINE_MS).unref();
    void worker.stop();
  });
  await worker.run();
  destroyClients(clients);
  if (callLog !== undefined) closeSync(callLog);
  // Stopped by its recycle policy, between tasks: the launcher (local stack, worker/supervisor.ts) starts another.
  return worker.recycled ? WORKER_RECYCLE_EXIT_CODE : 0;
}

/** A worker whose parent died stops within this (its task released if that is quick). */
const PARENT_GONE_DEADLINE_MS = 3000;


/**
 * Opt-in (MR_CALL_LOG=<file>, used by the benchmark): one line per AWS request,
 * `<epoch ms> <pid> <service> <operation> <jobId|-> <taskId|-> <what|-> <range|-> <hb|->`:
 * the job and task the call is made for (see callContext; "-" when idle), the S3 key or
 * the DynamoDB item kinds (JOB, TASK, WORKER...), the S3 range, and "hb" for heartbeats.
 */
function callLogger(fd: number): CallObserver {
  return (service, operation, input) => {
    const ctx = callContext.getStore();
    const i = (input ?? {}) as { Key?: unknown; Range?: unknown };
    const what = service === 's3' ? (typeof i.Key === 'string' ? i.Key.replace(/\s/g, '_') : '-') : itemKinds(input);
    const range = service === 's3' && typeof i.Range === 'string' ? i.Range : '-';
    writeSync(
      fd,
      `${Date.now()} ${process.pid} ${service} ${operation} ${ctx?.jobId ?? '-'} ${ctx?.taskId ?? '-'} ${what} ${range} ${ctx?.heartbeat ? 'hb' : '-'}\n`,
    );
  };
}

/** The kinds of the DynamoDB items a request names (sort key before '#'), joined by '+'. */
function itemKinds(input: unknown): string {
  const kinds: string[] = [];
  const sk = (key: unknown) => {
    const v = (key as { sk?: unknown } | undefined)?.sk;
    const s = typeof v === 'string' ? v : (v as { S?: unknown } | undefined)?.S;
    if (typeof s === 'string') kinds.push(s.split('#')[0]!);
  };
  const i = (input ?? {}) as { Key?: unknown; Item?: unknown; TransactItems?: unknown[] };
  sk(i.Key);
  sk(i.Item);
  for (const t of i.TransactItems ?? []) {
    for (const op of Object.values(t as Record<string, { Key?: unknown; Item?: unknown }>)) sk(op.Key ?? op.Item);
  }
  return kinds.length > 0 ? kinds.join('+') : '-';
}
