import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { MeshFunction, MeshFunctionProps } from './mesh-function';

/** ScheduledPartProps is what a scheduled part of the control plane (reconciler, renewal) is built from. */
export interface ScheduledPartProps {
  readonly table: dynamodb.Table;
  readonly environment: Record<string, string>;
  /** Turns the scheduled invocation into a rule target (the control plane's delivery settings). */
  readonly target: (fn: lambda.IFunction) => targets.LambdaFunction;
  readonly logRetention?: logs.RetentionDays;
}

/**
 * scheduledFunction builds a MeshFunction that an EventBridge schedule invokes, never retried
 * by Lambda: the next scheduled run is the retry, and a failed run leaves nothing worth
 * dead-lettering (the function's error alarm says it failed).
 */
export function scheduledFunction(
  scope: Construct,
  props: ScheduledPartProps,
  fn: { readonly id: string } & Omit<MeshFunctionProps, 'environment' | 'logRetention'>,
  rule: { readonly id: string; readonly description: string; readonly schedule: events.Schedule },
): { fn: MeshFunction; rule: events.Rule } {
  const { id, ...fnProps } = fn;
  const created = new MeshFunction(scope, id, { ...fnProps, environment: props.environment, logRetention: props.logRetention });
  created.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(5) });
  const scheduled = new events.Rule(scope, rule.id, { description: rule.description, schedule: rule.schedule, targets: [props.target(created)] });
  return { fn: created, rule: scheduled };
}
