import middy from '@middy/core';
import { RolloutControllerDeps, RolloutOutcome, runRollouts } from '../../shared/rollout/controller';
import { MetricUnit, createLogger, createMetrics, telemetry } from '../lib/telemetry';

/**
 * createRolloutHandler runs the rollout controller once a minute (infra/rollouts.ts): every
 * progressing rollout that is due is judged on the data plane's metrics and moved one step, held,
 * completed or rolled back. Each decision is logged and counted (`RolloutDecisions`, by action),
 * so a roll-back can page someone; a failure throws, and the next minute's run is the retry.
 */
export function createRolloutHandler(deps: RolloutControllerDeps) {
  const logger = createLogger('rollouts');
  const metrics = createMetrics('rollouts');
  const handle = async (): Promise<RolloutOutcome[]> => {
    const outcomes = await runRollouts(deps);
    for (const o of outcomes) {
      logger.info('rollout decision', { rollout: o.id, ...o.decision, recorded: o.recorded });
      const single = metrics.singleMetric();
      single.addDimension('action', o.decision.action);
      single.addMetric('RolloutDecisions', MetricUnit.Count, 1);
    }
    return outcomes;
  };
  return middy(handle).use(telemetry(logger, metrics));
}
