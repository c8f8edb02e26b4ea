import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { completeDrain, drainCompletionSchema } from '../../shared/lifecycle/drain';
import { LifecycleActions } from '../../shared/lifecycle/ports';
import { toProblems } from '../../shared/model/spec';
import { EndpointStore } from '../../shared/state/endpoints';
import { createLogger, createMetrics } from '../lib/observability';

export interface LifecycleCompleteDeps {
  readonly store: EndpointStore;
  readonly lifecycleActions: LifecycleActions;
}

/**
 * createLifecycleCompleteHandler consumes the delayed drain completions: for each message it
 * completes the terminate hook and removes the endpoint. A message that fails (bad body, an
 * AWS or DynamoDB error) is reported as a batch item failure, so only it is retried and, in
 * the end, dead-lettered; the others of the batch are done.
 */
export function createLifecycleCompleteHandler(deps: LifecycleCompleteDeps) {
  const logger = createLogger('lifecycle-complete');
  const metrics = createMetrics('lifecycle-complete');
  const handle = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const parsed = drainCompletionSchema.safeParse(JSON.parse(record.body));
        if (!parsed.success) {
          const problems = toProblems(parsed.error).map((p) => `${p.path}: ${p.message}`);
          throw new Error(`message ${record.messageId} is not a drain completion: ${problems.join('; ')}`);
        }
        const result = await completeDrain(deps, parsed.data);
        metrics.addMetric(result.action === 'completed' ? 'HooksCompleted' : 'HooksExpired', MetricUnit.Count, 1);
        logger.info('drain completed', { messageId: record.messageId, ...parsed.data.hook, eventId: parsed.data.eventId, ...result });
      } catch (err) {
        metrics.addMetric('CompletionsFailed', MetricUnit.Count, 1);
        logger.error('drain completion failed', { messageId: record.messageId, error: err as Error });
        batchItemFailures.push({ itemIdentifier: record.messageId });
      }
    }
    return { batchItemFailures };
  };
  return middy(handle).use(injectLambdaContext(logger)).use(logMetrics(metrics));
}
