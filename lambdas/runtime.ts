/**
 * Wiring shared by the Lambda handlers: clients, names and timings from the
 * environment the stack sets, and a structured JSON logger. Built once per container.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { createClients } from '../aws/clients.js';
import { namesFromEnv, timingsFromEnv } from '../core/config.js';
import { createServices, type Services } from '../services/context.js';
import { emfMetrics } from '../services/metrics.js';

let cached: Services | undefined;

export function lambdaServices(serviceName: string): { services: Services; logger: Logger } {
  const logger = new Logger({ serviceName });
  cached ??= createServices(createClients(), namesFromEnv(), timingsFromEnv(), logger, Date.now, emfMetrics(serviceName));
  return { services: { ...cached, log: logger }, logger };
}
