import { Duration } from 'aws-cdk-lib';
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
import { fleetReadStatements, tableActions } from './iam';

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

/**
 * LifecyclePipeline turns AWS lifecycle events into endpoint changes: EventBridge rules for
 * ECS task and EC2 instance state changes and the mesh's Auto Scaling hooks, the lifecycle
 * function they invoke, and the drain queue whose delayed messages the lifecycle-complete
 * function turns into completed terminate hooks; with a dead-letter queue at every hop. Built
 * in the ControlPlane's scope (see StateStore).
 */
export class LifecyclePipeline {
  /** Delayed "complete this terminate hook" messages: sent by lifecycle, consumed by lifecycle-complete. */
  public readonly drainQueue: sqs.Queue;
  /** Events EventBridge could not deliver to a target (rule targets' dead-letter queue). */
  public readonly deliveryDlq: sqs.Queue;
  /** Events the lifecycle function failed on after Lambda's retries, with the error (on-failure destination). */
  public readonly lifecycleDlq: sqs.Queue;
  /** Drain messages lifecycle-complete failed on five times. */
  public readonly drainDlq: sqs.Queue;
  public readonly lifecycleFunction: MeshFunction;
  public readonly lifecycleCompleteFunction: MeshFunction;
  public readonly ecsTaskRule: events.Rule;
  public readonly ec2StateRule: events.Rule;
  public readonly autoScalingLifecycleRule: events.Rule;

  constructor(scope: Construct, props: LifecyclePipelineProps) {
    const { table, environment, logRetention } = props;
    // Queues first: functions name them in their environment and destinations.
    this.deliveryDlq = dlq(scope, 'DeliveryDlq');
    this.lifecycleDlq = dlq(scope, 'LifecycleDlq');
    this.drainDlq = dlq(scope, 'DrainDlq');
    this.drainQueue = new sqs.Queue(scope, 'DrainQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the consumer's timeout, as Lambda's SQS integration recommends.
      visibilityTimeout: Duration.seconds(180),
      deadLetterQueue: { queue: this.drainDlq, maxReceiveCount: 5 },
    });

    this.lifecycleFunction = new MeshFunction(scope, 'Lifecycle', {
      entry: functionEntries.lifecycle,
      serviceName: 'lifecycle',
      description: 'Applies ECS, EC2 and Auto Scaling lifecycle events to endpoint state',
      memorySize: 512,
      timeout: Duration.seconds(30),
      environment: {
        ...environment,
        DRAIN_QUEUE_URL: this.drainQueue.queueUrl,
        // Only our hooks are completed: another tool's hook on the same group is left alone.
        LIFECYCLE_HOOK_NAMES: Object.values(lifecycleHookNames).join(','),
      },
      reservedConcurrentExecutions: props.lifecycleConcurrency,
      logRetention,
    });
    this.lifecycleFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.lifecycleDlq),
    });
    table.grant(this.lifecycleFunction, ...tableActions.readWrite);
    this.drainQueue.grantSendMessages(this.lifecycleFunction);
    for (const statement of fleetReadStatements(scope, props.ecsClusterArns)) this.lifecycleFunction.addToRolePolicy(statement);

    this.lifecycleCompleteFunction = new MeshFunction(scope, 'LifecycleComplete', {
      entry: functionEntries.lifecycleComplete,
      serviceName: 'lifecycle-complete',
      description: 'Completes Auto Scaling terminate hooks once an instance has drained',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment,
      logRetention,
    });
    table.grant(this.lifecycleCompleteFunction, ...tableActions.readWrite);
    this.lifecycleCompleteFunction.addEventSource(new SqsEventSource(this.drainQueue, { batchSize: 10, reportBatchItemFailures: true }));

    this.ecsTaskRule = new events.Rule(scope, 'EcsTaskStateRule', {
      description: 'ECS task state changes of service tasks → lifecycle',
      eventPattern: ecsTaskStatePattern(props.ecsClusterArns ?? []),
      targets: [this.target(this.lifecycleFunction)],
    });
    this.ec2StateRule = new events.Rule(scope, 'Ec2StateRule', {
      description: 'EC2 instance state changes → lifecycle',
      eventPattern: ec2InstanceStatePattern(),
      targets: [this.target(this.lifecycleFunction)],
    });
    this.autoScalingLifecycleRule = new events.Rule(scope, 'AutoScalingLifecycleRule', {
      description: 'Auto Scaling lifecycle actions of the mesh hooks → lifecycle',
      eventPattern: autoScalingLifecyclePattern(Object.values(lifecycleHookNames), []),
      targets: [this.target(this.lifecycleFunction)],
    });
  }

  /** target makes a function a rule target that retries for two hours, then dead-letters. */
  target(fn: lambda.IFunction): targets.LambdaFunction {
    return new targets.LambdaFunction(fn, { deadLetterQueue: this.deliveryDlq, retryAttempts: 10, maxEventAge: Duration.hours(2) });
  }
}

function dlq(scope: Construct, id: string): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}
