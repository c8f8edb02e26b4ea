import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { functionEntries } from './paths';
import { tableActions } from './iam';
import { ScheduledPartProps, scheduledFunction } from './scheduled';

/**
 * rolloutController builds what carries out progressive rollouts (shared/rollout): a small
 * function run once a minute by an EventBridge schedule, not a Step Functions state machine per
 * rollout. A rollout's state lives in the table (`ROLLOUTS`), so a run is idempotent and
 * restartable, the same code runs in `npm start`, and an idle mesh costs one Query a minute;
 * a step interval is whole minutes, which a canary does not need finer. It reads the catalog
 * and rollouts, writes specs, snapshots and the change log as a declare does (no KMS: a step
 * issues no certificate), and reads the data plane's metrics (GetMetricData has no
 * resource-level permission).
 */
export function rolloutController(scope: Construct, props: ScheduledPartProps) {
  const { fn: rolloutFunction, rule: rolloutRule } = scheduledFunction(
    scope,
    props,
    {
      id: 'Rollouts',
      entry: functionEntries.rollouts,
      serviceName: 'rollouts',
      description: 'Moves progressive rollouts one step at a time on the data plane metrics',
      memorySize: 512,
      timeout: Duration.minutes(1),
      // One run at a time: two would judge the same step twice (the revision fence keeps only one).
      reservedConcurrentExecutions: 1,
    },
    { id: 'RolloutSchedule', description: 'Runs the rollout controller', schedule: events.Schedule.rate(Duration.minutes(1)) },
  );
  props.table.grant(rolloutFunction, ...tableActions.readWrite);
  rolloutFunction.addToRolePolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
  return { rolloutFunction, rolloutRule };
}
