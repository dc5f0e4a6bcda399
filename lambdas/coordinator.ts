/**
 * Coordinator Lambda: the submissions queue delivers S3 notifications for
 * `jobs/<id>/job.json` and `incoming/<pipeline>/<batch>/_READY`. Each record is
 * handled on its own; failed ones are reported back for redelivery (partial batch).
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { batchJobId, classifyTriggerKey } from '../core/layout.js';
import { handleUpload, uploadsOf } from '../services/coordinator.js';
import { lambdaServices } from './runtime.js';
import { LOG_EVENTS } from '../core/log-events.js';

export async function handler(event: SQSEvent): Promise<SQSBatchResponse> {
  const { services, logger } = lambdaServices('mapreduce-coordinator');
  const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    try {
      for (const { bucket, key } of uploadsOf(record.body)) {
        // Every line logged while handling this upload carries its job id.
        const trigger = classifyTriggerKey(key);
        const jobId =
          trigger.kind === 'manifest' ? trigger.jobId : trigger.kind === 'ready' ? batchJobId(trigger.pipeline, trigger.batch) : undefined;
        if (jobId) logger.appendKeys({ jobId });
        const result = await handleUpload(services, bucket, key);
        logger.info(LOG_EVENTS.submissionHandled, { key, ...result });
        logger.removeKeys(['jobId']);
      }
    } catch (err) {
      logger.error(LOG_EVENTS.submissionFailed, { messageId: record.messageId, error: err as Error });
      logger.removeKeys(['jobId']);
      batchItemFailures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures };
}
