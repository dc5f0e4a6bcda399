/**
 * Coordinator Lambda: the submissions queue delivers S3 notifications for
 * `jobs/<id>/job.json` and `incoming/<pipeline>/<batch>/_READY`, and the
 * coordinator's own follow-ups (plan chunks, batch re-checks). Each record is
 * handled on its own; only transient failures go back for redelivery (partial
 * batch): a message that can never succeed is logged and dropped at once.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { isTransient } from '../core/errors.js';
import { handleSubmission } from '../services/coordinator.js';
import { lambdaServices } from './runtime.js';
import { LOG_EVENTS } from '../core/log-events.js';

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { services, logger } = lambdaServices('mapreduce-coordinator');
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      for (const result of await handleSubmission(services, record.body)) logger.info(LOG_EVENTS.submissionHandled, { ...result });
    } catch (err) {
      if (isTransient(err)) {
        logger.error(LOG_EVENTS.submissionFailed, { messageId: record.messageId, error: err as Error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      } else {
        logger.error(LOG_EVENTS.submissionDropped, { messageId: record.messageId, error: err as Error });
      }
    }
  }
  return { batchItemFailures };
}
