/**
 * Checker Lambda: EventBridge invokes it every minute; while jobs are active it sweeps
 * in a loop until shortly before the next invocation, so stalled tasks are found within
 * seconds. With nothing active it stops after one sweep.
 */
import type { Context } from 'aws-lambda';
import { sweepUntil } from '../services/checker.js';
import { lambdaServices } from './runtime.js';
import { LOG_EVENTS } from '../core/log-events.js';

/** Stop this long before the Lambda timeout, and before the next scheduled run starts. */
const SAFETY_MS = 8000;
const MAX_RUN_MS = 55_000;

export async function handler(_event: unknown, context: Context): Promise<{ sweeps: number }> {
  const { services, logger } = lambdaServices('mapreduce-checker');
  const budget = Math.min(MAX_RUN_MS, context.getRemainingTimeInMillis() - SAFETY_MS);
  const sweeps = await sweepUntil(services, context.awsRequestId, Date.now() + Math.max(0, budget), undefined, {
    stopWhenIdle: true,
  });
  logger.info(LOG_EVENTS.checkerRunFinished, { sweeps });
  return { sweeps };
}
