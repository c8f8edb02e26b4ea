import middy from '@middy/core';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { completeDrain, drainCompletionSchema } from '../../shared/lifecycle/drain';
import { LifecycleActions } from '../../shared/lifecycle/ports';
import { ReadinessScheduler, ReadinessStore, checkLaunchReadiness, launchReadinessSchema } from '../../shared/lifecycle/readiness';
import { toProblems } from '../../shared/model/spec';
import { MetricUnit, createLogger, createMetrics, telemetry } from '../lib/telemetry';

export interface LifecycleCompleteDeps {
  readonly store: ReadinessStore;
  readonly lifecycleActions: LifecycleActions;
  /** Re-queues launch readiness checks; without it a readiness message fails (and is dead-lettered). */
  readonly readinessScheduler?: ReadinessScheduler;
  /** @default () => new Date() */
  readonly now?: () => Date;
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
  /** checkReadiness is the later checks of a launch hook: CONTINUE once the node has config, ABANDON past the deadline. */
  const checkReadiness = async (body: unknown, messageId: string): Promise<void> => {
    const parsed = launchReadinessSchema.safeParse(body);
    if (!parsed.success) {
      throw new Error(`message ${messageId} is not a launch readiness check: ${toProblems(parsed.error).map((p) => `${p.path}: ${p.message}`).join('; ')}`);
    }
    if (!deps.readinessScheduler) throw new Error('cannot check launch readiness: no readiness scheduler (DRAIN_QUEUE_URL) is configured');
    const result = await checkLaunchReadiness(
      { store: deps.store, lifecycleActions: deps.lifecycleActions, scheduler: deps.readinessScheduler, now: deps.now ?? (() => new Date()) },
      parsed.data,
    );
    const context = { messageId, ...parsed.data.hook, service: parsed.data.service, ...result };
    if (result.state === 'timed-out') {
      metrics.addMetric('LaunchesAbandoned', MetricUnit.Count, 1);
      logger.error('launching instance never got its configuration: abandoned', context);
    } else if (result.state === 'ready') {
      metrics.addMetric('LaunchesReady', MetricUnit.Count, 1);
      logger.info('launching instance has its configuration: in service', context);
    }
  };
  const handle = async (event: SQSEvent): Promise<SQSBatchResponse> => {
    const batchItemFailures: SQSBatchResponse['batchItemFailures'] = [];
    for (const record of event.Records) {
      try {
        const body: unknown = JSON.parse(record.body);
        if ((body as { kind?: unknown } | null)?.kind === 'launch-readiness') {
          await checkReadiness(body, record.messageId);
          continue;
        }
        const parsed = drainCompletionSchema.safeParse(body);
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
  return middy(handle).use(telemetry(logger, metrics));
}
