import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { functionEntries } from './paths';
import { rebuildFunctionDefaults } from '../functions/rebuild/handler';
import { rebuildWrites, tableActions } from './iam';
import { ScheduledPartProps, scheduledFunction } from './scheduled';

/**
 * rebuildTimeout is the rebuild function's timeout: each invocation renders pages until 30 s
 * before it (functions/rebuild/handler.ts, reserveMs), then hands its lease back.
 */
export const rebuildTimeout = Duration.seconds(rebuildFunctionDefaults.timeoutSeconds);

/**
 * fleetRebuild builds what renders every stored snapshot and assignment again after a deploy
 * that changes rendering (shared/reconcile/rebuild-driver.ts): a function an EventBridge
 * schedule runs once a minute. The schedule is both the trigger and the driver: each tick
 * compares the render digest of the code and settings it was deployed with against the one
 * the stored snapshots were rebuilt with (`CATALOG / REBUILD`), so a deploy that changes them
 * starts a rebuild within a minute, with no custom resource; a run under way advances one
 * slice per tick under a lease, so a failed or timed-out slice is retried by the next tick,
 * and there is no self-invocation to permit or to loop. An idle tick is one GetItem. One
 * invocation at a time (reserved concurrency 1): the lease makes a second one harmless, this
 * keeps it from costing anything. It reads the table and writes only snapshots, assignments,
 * the change log and its own state (iam.ts, rebuildWrites).
 */
export function fleetRebuild(scope: Construct, props: ScheduledPartProps) {
  const { fn: rebuildFunction, rule: rebuildRule } = scheduledFunction(
    scope,
    props,
    {
      id: 'Rebuild',
      entry: functionEntries.rebuild,
      serviceName: 'rebuild',
      description: 'Renders every snapshot and assignment again when rendering changed (a slice per tick)',
      memorySize: 1024,
      timeout: rebuildTimeout,
      reservedConcurrentExecutions: 1,
    },
    { id: 'RebuildSchedule', description: 'Advances the fleet rebuild', schedule: events.Schedule.rate(Duration.minutes(1)) },
  );
  props.table.grant(rebuildFunction, ...tableActions.read);
  rebuildFunction.addToRolePolicy(rebuildWrites(props.table));
  return { rebuildFunction, rebuildRule };
}
