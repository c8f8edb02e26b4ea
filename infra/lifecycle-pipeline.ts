import { Duration, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { autoScalingLifecyclePattern, ec2InstanceStatePattern, ecsTaskStatePattern } from './event-patterns';
import { functionEntries } from './paths';
import { MeshFunction } from './mesh-function';
import { acknowledgeEcsWildcards, fleetReadStatements, tableActions } from './iam';

/** The names of the Auto Scaling lifecycle hooks the control plane puts on attached groups. */
export const lifecycleHookNames = { launch: 'envoy-mesh-launch', terminate: 'envoy-mesh-terminate' } as const;

export interface LifecyclePipelineProps {
  readonly table: dynamodb.Table;
  readonly environment: Record<string, string>;
  readonly ecsClusterArns?: readonly string[];
  /** Reserved concurrency of the lifecycle function; undefined leaves it unreserved. */
  readonly lifecycleConcurrency: number | undefined;
  readonly logRetention?: logs.RetentionDays;
}

/** ruleTarget makes a function a rule target that retries for two hours, then dead-letters to `deliveryDlq`. */
export function ruleTarget(deliveryDlq: sqs.IQueue): (fn: lambda.IFunction) => targets.LambdaFunction {
  return (fn) => new targets.LambdaFunction(fn, { deadLetterQueue: deliveryDlq, retryAttempts: 10, maxEventAge: Duration.hours(2) });
}

/**
 * lifecyclePipeline builds what turns AWS lifecycle events into endpoint changes: EventBridge
 * rules for ECS task and EC2 instance state changes and the mesh's Auto Scaling hooks, the
 * lifecycle function they invoke, and the drain queue whose delayed messages the
 * lifecycle-complete function turns into completed terminate hooks; with a dead-letter queue
 * at every hop. Built in the ControlPlane's scope (see state-store.ts).
 */
export function lifecyclePipeline(scope: Construct, props: LifecyclePipelineProps) {
  const { table, environment, logRetention } = props;
  // Queues first: functions name them in their environment and destinations.
  const deliveryDlq = dlq(scope, 'DeliveryDlq');
  const lifecycleDlq = dlq(scope, 'LifecycleDlq');
  const drainDlq = dlq(scope, 'DrainDlq');
  const drainQueue = new sqs.Queue(scope, 'DrainQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    // Six times the consumer's timeout, as Lambda's SQS integration recommends.
    visibilityTimeout: Duration.seconds(180),
    deadLetterQueue: { queue: drainDlq, maxReceiveCount: 5 },
  });

  const lifecycleFunction = new MeshFunction(scope, 'Lifecycle', {
    entry: functionEntries.lifecycle,
    serviceName: 'lifecycle',
    description: 'Applies ECS, EC2 and Auto Scaling lifecycle events to endpoint state',
    memorySize: 512,
    timeout: Duration.seconds(30),
    environment: {
      ...environment,
      DRAIN_QUEUE_URL: drainQueue.queueUrl,
      // Only our hooks are completed: another tool's hook on the same group is left alone.
      LIFECYCLE_HOOK_NAMES: Object.values(lifecycleHookNames).join(','),
    },
    reservedConcurrentExecutions: props.lifecycleConcurrency,
    logRetention,
  });
  lifecycleFunction.configureAsyncInvoke({ retryAttempts: 2, maxEventAge: Duration.hours(6), onFailure: new SqsDestination(lifecycleDlq) });
  table.grant(lifecycleFunction, ...tableActions.readWrite);
  drainQueue.grantSendMessages(lifecycleFunction);
  for (const statement of fleetReadStatements(scope, props.ecsClusterArns)) lifecycleFunction.addToRolePolicy(statement);
  acknowledgeEcsWildcards(lifecycleFunction, ['container-instance']);

  const lifecycleCompleteFunction = new MeshFunction(scope, 'LifecycleComplete', {
    entry: functionEntries.lifecycleComplete,
    serviceName: 'lifecycle-complete',
    description: 'Completes Auto Scaling terminate hooks once an instance has drained',
    memorySize: 256,
    timeout: Duration.seconds(30),
    environment,
    logRetention,
  });
  table.grant(lifecycleCompleteFunction, ...tableActions.readWrite);
  // Launch readiness checks that are not ready yet go back on the queue they came from.
  lifecycleCompleteFunction.addEnvironment('DRAIN_QUEUE_URL', drainQueue.queueUrl);
  drainQueue.grantSendMessages(lifecycleCompleteFunction);
  lifecycleCompleteFunction.addEventSource(new SqsEventSource(drainQueue, { batchSize: 10, reportBatchItemFailures: true }));

  const target = ruleTarget(deliveryDlq);
  const rule = (id: string, description: string, eventPattern: events.EventPattern) =>
    new events.Rule(scope, id, { description, eventPattern, targets: [target(lifecycleFunction)] });
  const ecsTaskRule = rule('EcsTaskStateRule', 'ECS task state changes of service tasks → lifecycle', ecsTaskStatePattern(props.ecsClusterArns ?? []));
  const ec2StateRule = rule('Ec2StateRule', 'EC2 instance state changes → lifecycle', ec2InstanceStatePattern());
  const autoScalingLifecycleRule = rule(
    'AutoScalingLifecycleRule',
    'Auto Scaling lifecycle actions of the mesh hooks → lifecycle',
    autoScalingLifecyclePattern(Object.values(lifecycleHookNames), []),
  );
  return {
    drainQueue,
    deliveryDlq,
    lifecycleDlq,
    drainDlq,
    lifecycleFunction,
    lifecycleCompleteFunction,
    ecsTaskRule,
    ec2StateRule,
    autoScalingLifecycleRule,
  };
}

function dlq(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      'This queue is itself a dead-letter queue (a rule target DLQ or a Lambda on-failure destination, which cdk-nag does not ' +
      'recognise as one): a DLQ of a DLQ would only move the problem; its depth alarms instead (ControlPlaneMonitoring)',
  });
  return queue;
}
