import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import { Construct } from 'constructs';
import { functionEntries } from './paths';
import { ScheduledPartProps, scheduledFunction } from './scheduled';
import { acknowledgeEcsWildcards, ecsStatement, fleetReadStatements, listTasks, tableActions } from './iam';

export interface ReconcilerProps extends ScheduledPartProps {
  readonly ecsClusterArns?: readonly string[];
  /** @default rate(5 minutes) */
  readonly schedule?: events.Schedule;
}

/**
 * reconciler builds what rediscovers the fleet on a schedule and repairs the drift missed
 * events left (certificates are renewed apart: renewal.ts). Built in the ControlPlane's scope
 * (see state-store.ts).
 */
export function reconciler(scope: Construct, props: ReconcilerProps) {
  const { fn: reconcilerFunction, rule: reconcileRule } = scheduledFunction(
    scope,
    props,
    {
      id: 'Reconciler',
      entry: functionEntries.reconciler,
      serviceName: 'reconciler',
      description: 'Compares endpoint state with what ECS and EC2 report, and repairs drift',
      memorySize: 1024,
      timeout: Duration.minutes(2),
      // One run at a time: two would repair the same drift twice.
      reservedConcurrentExecutions: 1,
    },
    { id: 'ReconcileSchedule', description: 'Runs the reconciler', schedule: props.schedule ?? events.Schedule.rate(Duration.minutes(5)) },
  );
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
  return { reconcilerFunction, reconcileRule };
}
