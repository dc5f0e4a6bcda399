/**
 * The worker entrypoint (`mapreduce worker`, the container's command): read the
 * environment, run the loop, stop gracefully on SIGTERM/SIGINT.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients, destroyClients } from '../aws/clients.js';
import { namesFromEnv, timingsFromEnv, workerSettingsFromEnv } from '../core/config.js';
import { createServices } from '../services/context.js';
import { emfMetrics } from '../services/metrics.js';
import { Worker } from './worker.js';

/** Graceful shutdown must finish within ECS's 30 s stop timeout. */
const SHUTDOWN_DEADLINE_MS = 25_000;

export async function runWorker(env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const logger = new Logger({ serviceName: 'mapreduce-worker', logLevel: (env.MR_LOG_LEVEL ?? 'INFO') as 'INFO' });
  const clients = createClients({}, env);
  const metrics = env.MR_EMIT_METRICS === 'false' ? undefined : emfMetrics('mapreduce-worker', env);
  const services = createServices(clients, namesFromEnv(env), timingsFromEnv(env), logger, Date.now, metrics);
  const worker = new Worker(services, workerSettingsFromEnv(env));
  logger.appendKeys({ workerId: worker.workerId });
  const onSignal = (signal: string) => {
    logger.info('Stopping', { signal });
    setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
    void worker.stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  await worker.run();
  destroyClients(clients);
  return 0;
}
