import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionEntries } from './paths';
import { MeshFunction } from './mesh-function';
import { tableActions } from './iam';

export interface RenewalProps {
  readonly table: dynamodb.Table;
  readonly environment: Record<string, string>;
  /** How often renewal runs. */
  readonly interval: Duration;
  /** Turns the scheduled invocation into a rule target (the control plane's delivery settings). */
  readonly target: (fn: lambda.IFunction) => targets.LambdaFunction;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * renewal builds what renews service certificates before they expire: a small function on a
 * schedule of its own, apart from the reconciler, so a fleet listing that fails or runs out of
 * time never skips a renewal (ControlPlaneMonitoring alarms on a failed or missed one). Built
 * in the ControlPlane's scope (see state-store.ts); only when the control plane has mesh keys.
 */
export function renewal(scope: Construct, props: RenewalProps) {
  const renewalFunction = new MeshFunction(scope, 'Renewal', {
    entry: functionEntries.renewal,
    serviceName: 'renewal',
    description: 'Renews service certificates before they expire',
    memorySize: 512,
    timeout: Duration.minutes(5),
    environment: props.environment,
    logRetention: props.logRetention,
  });
  // The next scheduled run is the retry; the missed-renewal alarm says when there was none.
  renewalFunction.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(5) });
  // Reads the catalog, the CA and the data key; writes secrets items (and the CA or data key on a first run).
  props.table.grant(renewalFunction, ...tableActions.read, 'dynamodb:PutItem');
  const renewalRule = new events.Rule(scope, 'RenewalSchedule', {
    description: 'Renews service certificates',
    schedule: events.Schedule.rate(props.interval),
    targets: [props.target(renewalFunction)],
  });
  return { renewalFunction, renewalRule };
}

/**
 * renewalMissedPeriod is how long without a completed renewal run means renewals are failing
 * or not running: three intervals, and at least an hour (a single late run is not an alarm).
 */
export function renewalMissedPeriod(interval: Duration): Duration {
  return Duration.minutes(Math.max(60, Math.ceil((3 * interval.toSeconds()) / 60)));
}
