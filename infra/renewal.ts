import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { functionEntries } from './paths';
import { tableActions } from './iam';
import { ScheduledPartProps, scheduledFunction } from './scheduled';

export interface RenewalProps extends ScheduledPartProps {
  /** How often renewal runs. */
  readonly interval: Duration;
}

/**
 * renewal builds what renews service certificates before they expire: a small function on a
 * schedule of its own, apart from the reconciler, so a fleet listing that fails or runs out of
 * time never skips a renewal (ControlPlaneMonitoring alarms on a failed or missed one). Built
 * in the ControlPlane's scope (see state-store.ts); only when the control plane has mesh keys.
 */
export function renewal(scope: Construct, props: RenewalProps) {
  const { fn: renewalFunction, rule: renewalRule } = scheduledFunction(
    scope,
    props,
    {
      id: 'Renewal',
      entry: functionEntries.renewal,
      serviceName: 'renewal',
      description: 'Renews service certificates before they expire',
      memorySize: 512,
      timeout: Duration.minutes(5),
    },
    { id: 'RenewalSchedule', description: 'Renews service certificates', schedule: events.Schedule.rate(props.interval) },
  );
  // Reads the catalog, the CA and the data key; writes secrets items (and the CA or data key on a first run).
  props.table.grant(renewalFunction, ...tableActions.read, 'dynamodb:PutItem');
  return { renewalFunction, renewalRule };
}

/**
 * renewalMissedPeriod is how long without a completed renewal run means renewals are failing
 * or not running: three intervals, and at least an hour (a single late run is not an alarm).
 */
export function renewalMissedPeriod(interval: Duration): Duration {
  return Duration.minutes(Math.max(60, Math.ceil((3 * interval.toSeconds()) / 60)));
}
