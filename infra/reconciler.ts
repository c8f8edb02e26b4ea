import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { functionEntries } from './paths';
import { MeshFunction } from './mesh-function';
import { acknowledgeEcsWildcards, ecsStatement, fleetReadStatements, listTasks, tableActions } from './iam';

export interface ReconcilerProps {
  readonly table: dynamodb.Table;
  readonly environment: Record<string, string>;
  readonly ecsClusterArns?: readonly string[];
  /** @default rate(5 minutes) */
  readonly schedule?: events.Schedule;
  /** Turns the scheduled invocation into a rule target (the control plane's delivery settings). */
  readonly target: (fn: lambda.IFunction) => targets.LambdaFunction;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * reconciler builds what rediscovers the fleet on a schedule, repairs the drift missed events
 * left and renews service certificates before they expire. Built in the ControlPlane's scope
 * (see state-store.ts).
 */
export function reconciler(scope: Construct, props: ReconcilerProps) {
  const reconcilerFunction = new MeshFunction(scope, 'Reconciler', {
    entry: functionEntries.reconciler,
    serviceName: 'reconciler',
    description: 'Compares endpoint state with what ECS and EC2 report, and repairs drift',
    memorySize: 1024,
    timeout: Duration.minutes(2),
    environment: props.environment,
    // One run at a time: two would repair the same drift twice.
    reservedConcurrentExecutions: 1,
    logRetention: props.logRetention,
  });
  // The next scheduled run is the retry; a failed run leaves nothing worth dead-lettering.
  reconcilerFunction.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(5) });
  props.table.grant(reconcilerFunction, ...tableActions.readWrite);
  // The fleet reads the lifecycle function has too, and the task listing it alone needs (in
  // the order the policy has always had them, so the synthesized template is unchanged).
  const [instances, groups, containerInstances] = fleetReadStatements(scope, props.ecsClusterArns);
  for (const statement of [
    instances!,
    groups!,
    listTasks(props.ecsClusterArns),
    ecsStatement(scope, ['ecs:DescribeTasks'], 'task', props.ecsClusterArns),
    containerInstances!,
  ]) {
    reconcilerFunction.addToRolePolicy(statement);
  }
  acknowledgeEcsWildcards(reconcilerFunction, ['task', 'container-instance']);
  const reconcileRule = new events.Rule(scope, 'ReconcileSchedule', {
    description: 'Runs the reconciler',
    schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(5)),
    targets: [props.target(reconcilerFunction)],
  });
  return { reconcilerFunction, reconcileRule };
}
