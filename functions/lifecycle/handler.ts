import middy from '@middy/core';
import type { Context, EventBridgeEvent } from 'aws-lambda';
import { LifecycleDeps, LifecycleOutcome, handleLifecycleEvent } from '../../shared/lifecycle/handle';
import { MetricUnit, createLogger, createMetrics, telemetry } from '../lib/telemetry';

/**
 * createLifecycleHandler wires lifecycle events (EventBridge) to the state pipeline. An event
 * that cannot be applied throws: Lambda retries it and then sends it to the dead-letter queue
 * with the error that names the event and the problem.
 * With `accountOfFunction` (in AWS), ECS tasks of accounts other than the function's own are
 * counted as foreign and not applied; the local runner accepts any account.
 */
export function createLifecycleHandler(deps: LifecycleDeps, options: { readonly accountOfFunction?: boolean } = {}) {
  const logger = createLogger('lifecycle');
  const metrics = createMetrics('lifecycle');
  let bound: LifecycleDeps | undefined;
  const handle = async (event: EventBridgeEvent<string, unknown>, context: Context): Promise<LifecycleOutcome> => {
    // In AWS, tasks of other accounts are not this fleet: the account is the function's own (its ARN).
    bound ??= options.accountOfFunction
      ? { ...deps, deployment: { ...deps.deployment, account: deps.deployment?.account ?? accountOfArn(context?.invokedFunctionArn) } }
      : deps;
    try {
      const outcome = await handleLifecycleEvent(bound, event);
      metrics.addMetric(`Events_${outcome.outcome}`, MetricUnit.Count, 1);
      if (outcome.overLimit) {
        metrics.addMetric('EndpointsOverLimit', MetricUnit.Count, outcome.overLimit);
        logger.error('assignment at its size limit: endpoints left out', { service: outcome.service, overLimit: outcome.overLimit });
      }
      const lagMs = Date.now() - Date.parse(event.time);
      if (Number.isFinite(lagMs)) metrics.addMetric('EventLag', MetricUnit.Milliseconds, Math.max(0, lagMs));
      if (outcome.completion === 'abandoned') {
        metrics.addMetric('LaunchesAbandoned', MetricUnit.Count, 1);
        logger.error('launching instance never got its configuration: abandoned', { ...outcome });
      } else {
        logger.info('lifecycle event', { ...outcome });
      }
      return outcome;
    } catch (err) {
      metrics.addMetric('EventsFailed', MetricUnit.Count, 1);
      logger.error('lifecycle event failed', { eventId: event?.id, error: err as Error });
      throw err;
    }
  };
  return middy(handle).use(telemetry(logger, metrics));
}

/** accountOfArn reads the account of an ARN (`arn:partition:service:region:account:...`). */
export function accountOfArn(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}
