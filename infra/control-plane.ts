import { CfnOutput, Duration, Fn, RemovalPolicy, Stack, Tags } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { tableDefinition } from '../shared/store/layout';
import { defaults } from '../shared/config';
import { RenderSettings, defaultRenderSettings } from '../shared/render/settings';
import { autoScalingLifecyclePattern, ec2InstanceStatePattern, ecsTaskStatePattern } from './event-patterns';
import { MeshFunction } from './mesh-function';
import { ControlPlaneMonitoring } from './monitoring';
import { functionEntries } from './paths';

export interface ControlPlaneProps {
  /** Keep the state table (and its data) when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly tableRemovalPolicy?: RemovalPolicy;
  /** DynamoDB deletion protection: the table cannot be deleted until this is turned off. @default true */
  readonly deletionProtection?: boolean;
  /** Point-in-time recovery (35 days of restorable history). @default true */
  readonly pointInTimeRecovery?: boolean;
  /**
   * The name of the xDS cluster in every Envoy bootstrap, which rendered config sources point
   * at. It is a fixed name, not the function URL's host: see docs/deploy.md ("The xDS host").
   * @default 'xds_cluster'
   */
  readonly xdsClusterName?: string;
  /** How often Envoys poll EDS and RDS. @default '5s' */
  readonly refreshDelay?: string;
  /** How long one poll may take: covers a cold start. @default '5s' */
  readonly requestTimeout?: string;
  /** The mesh's trust domain: identities are `spiffe://<meshName>/service/<name>`. @default 'mesh.local' */
  readonly meshName?: string;
  /** How long the xds function reuses a snapshot read from the table. @default 2000 */
  readonly snapshotCacheTtlMs?: number;
  /** The EC2 tag naming an instance's mesh service. @default 'mesh:service' */
  readonly meshTagKey?: string;
  /** Only task events from these ECS clusters (ARNs) reach the control plane. @default - every cluster */
  readonly ecsClusterArns?: readonly string[];
  /** When the reconciler runs. @default rate(5 minutes) */
  readonly reconcileSchedule?: events.Schedule;
  /**
   * Reserved concurrency of the lifecycle function: a burst of events (a fleet scaling at
   * once) then queues in Lambda's async queue instead of contending on the same table items.
   * `undefined` leaves it unreserved (needed in accounts whose concurrency limit is 10).
   * @default 10
   */
  readonly lifecycleConcurrency?: number | null;
  /** How long logs are kept. @default ONE_MONTH */
  readonly logRetention?: logs.RetentionDays;
  /** Where alarms notify. @default - alarms without actions */
  readonly alarmTopic?: sns.ITopic;
  /**
   * The mesh CA and the sealing of service private keys (mutual TLS, served over SDS). `false`
   * turns both off; otherwise the given keys are used, or new ones created.
   * @default - a new symmetric key (DATA_KEY_ID) and a new ECC_NIST_P256 SIGN_VERIFY key (CA_KEY_ID)
   */
  readonly meshKeys?: false | { readonly dataKey?: kms.IKey; readonly caKey?: kms.IKey };
}

/** The names of the Auto Scaling lifecycle hooks the control plane puts on attached groups. */
export const lifecycleHookNames = { launch: 'envoy-mesh-launch', terminate: 'envoy-mesh-terminate' } as const;

/** The most a drain may take (the spec caps drainSeconds at 900: SQS's longest delay). */
const maxDrainSeconds = 900;

export interface AttachAutoScalingGroupOptions {
  /** The mesh service the group's instances run (a MeshService or its name). */
  readonly service: string | { readonly serviceName: string; readonly drainSeconds?: number };
  /**
   * How long the terminate hook waits at most before Auto Scaling continues without us. Must
   * exceed the drain period. @default the service's drainSeconds (or 900 s) plus 120 s
   */
  readonly terminateHeartbeat?: Duration;
  /** How long a launching instance waits for the control plane. @default 5 minutes */
  readonly launchHeartbeat?: Duration;
}

/**
 * ControlPlane is everything the Envoy control plane needs in one account and region: the
 * state table, the xDS front door Envoys poll, the management API, the lifecycle pipeline
 * (EventBridge rules → lifecycle function, drain queue → lifecycle-complete), the scheduled
 * reconciler, and the alarms and dashboard that watch them.
 */
export class ControlPlane extends Construct {
  public readonly table: dynamodb.Table;
  public readonly xdsFunction: MeshFunction;
  public readonly xdsUrl: lambda.FunctionUrl;
  /** The front door's host name (`<id>.lambda-url.<region>.on.aws`), known at deploy time. */
  public readonly xdsHost: string;
  public readonly adminFunction: MeshFunction;
  public readonly adminUrl: lambda.FunctionUrl;
  public readonly lifecycleFunction: MeshFunction;
  public readonly lifecycleCompleteFunction: MeshFunction;
  public readonly reconcilerFunction: MeshFunction;
  /** The custom resource handler behind MeshService. */
  public readonly catalogFunction: MeshFunction;
  /** Delayed "complete this terminate hook" messages: sent by lifecycle, consumed by lifecycle-complete. */
  public readonly drainQueue: sqs.Queue;
  /** Events EventBridge could not deliver to a target (rule targets' dead-letter queue). */
  public readonly deliveryDlq: sqs.Queue;
  /** Events the lifecycle function failed on after Lambda's retries, with the error (on-failure destination). */
  public readonly lifecycleDlq: sqs.Queue;
  /** Drain messages lifecycle-complete failed on five times. */
  public readonly drainDlq: sqs.Queue;
  public readonly ecsTaskRule: events.Rule;
  public readonly ec2StateRule: events.Rule;
  public readonly autoScalingLifecycleRule: events.Rule;
  public readonly reconcileRule: events.Rule;
  public readonly monitoring: ControlPlaneMonitoring;
  /** Seals service private keys at rest (its data key lives in the table, encrypted). */
  public readonly dataKey?: kms.IKey;
  /** The mesh CA: its private key never leaves KMS. */
  public readonly caKey?: kms.IKey;
  /** The settings every rendering function shares; the bootstrap helpers read the same values. */
  public readonly renderSettings: RenderSettings;
  /** The EC2 tag naming an instance's mesh service. */
  public readonly meshTagKey: string;

  private readonly completeLifecycleStatement = new iam.PolicyStatement({ actions: ['autoscaling:CompleteLifecycleAction'] });
  private readonly attachedGroups = new Set<string>();

  constructor(scope: Construct, id: string, props: ControlPlaneProps = {}) {
    super(scope, id);
    this.renderSettings = {
      xdsClusterName: props.xdsClusterName ?? defaultRenderSettings.xdsClusterName,
      refreshDelay: props.refreshDelay ?? defaultRenderSettings.refreshDelay,
      requestTimeout: props.requestTimeout ?? defaultRenderSettings.requestTimeout,
      meshName: props.meshName ?? defaultRenderSettings.meshName,
    };

    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: tableDefinition.partitionKey, type: dynamodb.AttributeType.STRING },
      sortKey: { name: tableDefinition.sortKey, type: dynamodb.AttributeType.STRING },
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      deletionProtection: props.deletionProtection ?? true,
      removalPolicy: props.tableRemovalPolicy ?? RemovalPolicy.RETAIN,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
    });

    this.meshTagKey = props.meshTagKey ?? defaults.meshTagKey;
    const common = {
      TABLE_NAME: this.table.tableName,
      XDS_CLUSTER_NAME: this.renderSettings.xdsClusterName,
      XDS_REFRESH_DELAY: this.renderSettings.refreshDelay,
      XDS_REQUEST_TIMEOUT: this.renderSettings.requestTimeout,
      MESH_NAME: this.renderSettings.meshName,
      MESH_TAG_KEY: this.meshTagKey,
    };
    const logRetention = props.logRetention;

    // Queues first: functions name them in their environment and destinations.
    this.deliveryDlq = dlq(this, 'DeliveryDlq');
    this.lifecycleDlq = dlq(this, 'LifecycleDlq');
    this.drainDlq = dlq(this, 'DrainDlq');
    this.drainQueue = new sqs.Queue(this, 'DrainQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Six times the consumer's timeout, as Lambda's SQS integration recommends.
      visibilityTimeout: Duration.seconds(180),
      deadLetterQueue: { queue: this.drainDlq, maxReceiveCount: 5 },
    });

    this.xdsFunction = new MeshFunction(this, 'Xds', {
      entry: functionEntries.xds,
      serviceName: 'xds',
      description: 'REST xDS front door: answers Envoy discovery polls',
      memorySize: 512,
      timeout: Duration.seconds(5),
      environment: { ...common, SNAPSHOT_CACHE_TTL_MS: String(props.snapshotCacheTtlMs ?? defaults.snapshotCacheTtlMs) },
      logRetention,
    });
    // Reads snapshots and assignments, writes the polling node's status.
    this.table.grant(this.xdsFunction, ...tableActions.read, 'dynamodb:PutItem', 'dynamodb:UpdateItem');
    if (props.meshKeys !== false) {
      // The keys go with the table: a kept table with a deleted key holds secrets no one can open.
      const removalPolicy = props.tableRemovalPolicy ?? RemovalPolicy.RETAIN;
      this.dataKey =
        props.meshKeys?.dataKey ??
        new kms.Key(this, 'DataKey', { description: 'Envoy mesh: seals service private keys', enableKeyRotation: true, removalPolicy });
      this.caKey =
        props.meshKeys?.caKey ??
        new kms.Key(this, 'CaKey', {
          description: 'Envoy mesh: certificate authority',
          keySpec: kms.KeySpec.ECC_NIST_P256,
          keyUsage: kms.KeyUsage.SIGN_VERIFY,
          removalPolicy,
        });
    }
    this.xdsUrl = this.xdsFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });
    this.xdsHost = Fn.select(2, Fn.split('/', this.xdsUrl.url));

    this.adminFunction = new MeshFunction(this, 'Admin', {
      entry: functionEntries.admin,
      serviceName: 'admin',
      description: 'Management API: declare and remove service specs, list nodes',
      memorySize: 512,
      timeout: Duration.seconds(15),
      environment: common,
      logRetention,
    });
    this.table.grant(this.adminFunction, ...tableActions.readWrite);
    this.adminUrl = this.adminFunction.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.AWS_IAM });

    this.lifecycleFunction = new MeshFunction(this, 'Lifecycle', {
      entry: functionEntries.lifecycle,
      serviceName: 'lifecycle',
      description: 'Applies ECS, EC2 and Auto Scaling lifecycle events to endpoint state',
      memorySize: 512,
      timeout: Duration.seconds(30),
      environment: {
        ...common,
        DRAIN_QUEUE_URL: this.drainQueue.queueUrl,
        // Only our hooks are completed: another tool's hook on the same group is left alone.
        LIFECYCLE_HOOK_NAMES: Object.values(lifecycleHookNames).join(','),
      },
      reservedConcurrentExecutions: props.lifecycleConcurrency === null ? undefined : (props.lifecycleConcurrency ?? defaults.lifecycleConcurrency),
      logRetention,
    });
    this.lifecycleFunction.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.lifecycleDlq),
    });
    this.table.grant(this.lifecycleFunction, ...tableActions.readWrite);
    this.drainQueue.grantSendMessages(this.lifecycleFunction);
    this.lifecycleFunction.addToRolePolicy(describeInstances());
    this.lifecycleFunction.addToRolePolicy(describeAutoScalingInstances());
    this.lifecycleFunction.addToRolePolicy(
      ecsStatement(this, ['ecs:DescribeContainerInstances'], 'container-instance', props.ecsClusterArns),
    );

    this.lifecycleCompleteFunction = new MeshFunction(this, 'LifecycleComplete', {
      entry: functionEntries.lifecycleComplete,
      serviceName: 'lifecycle-complete',
      description: 'Completes Auto Scaling terminate hooks once an instance has drained',
      memorySize: 256,
      timeout: Duration.seconds(30),
      environment: common,
      logRetention,
    });
    this.table.grant(this.lifecycleCompleteFunction, ...tableActions.readWrite);
    this.lifecycleCompleteFunction.addEventSource(
      new SqsEventSource(this.drainQueue, { batchSize: 10, reportBatchItemFailures: true }),
    );

    this.reconcilerFunction = new MeshFunction(this, 'Reconciler', {
      entry: functionEntries.reconciler,
      serviceName: 'reconciler',
      description: 'Compares endpoint state with what ECS and EC2 report, and repairs drift',
      memorySize: 1024,
      timeout: Duration.minutes(2),
      environment: common,
      // One run at a time: two would repair the same drift twice.
      reservedConcurrentExecutions: 1,
      logRetention,
    });
    // The next scheduled run is the retry; a failed run leaves nothing worth dead-lettering.
    this.reconcilerFunction.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(5) });
    this.table.grant(this.reconcilerFunction, ...tableActions.readWrite);
    this.reconcilerFunction.addToRolePolicy(describeInstances());
    this.reconcilerFunction.addToRolePolicy(describeAutoScalingInstances());
    this.reconcilerFunction.addToRolePolicy(listTasks(props.ecsClusterArns));
    this.reconcilerFunction.addToRolePolicy(ecsStatement(this, ['ecs:DescribeTasks'], 'task', props.ecsClusterArns));
    this.reconcilerFunction.addToRolePolicy(
      ecsStatement(this, ['ecs:DescribeContainerInstances'], 'container-instance', props.ecsClusterArns),
    );

    this.catalogFunction = new MeshFunction(this, 'CatalogResource', {
      entry: functionEntries.catalogResource,
      serviceName: 'catalog-resource',
      description: 'CloudFormation custom resource: declares and removes MeshService specs',
      memorySize: 512,
      timeout: Duration.minutes(1),
      environment: common,
      logRetention,
    });
    this.table.grant(this.catalogFunction, ...tableActions.readWrite);

    // The management API and the MeshService handler issue certificates when a service is
    // declared, and the scheduled reconciler renews them before they expire (the CA signs, the
    // data key seals the private key); the xds function only opens sealed keys to serve them
    // over SDS. Whichever runs first makes the data key.
    if (this.dataKey && this.caKey) {
      for (const fn of [this.adminFunction, this.catalogFunction, this.reconcilerFunction]) {
        fn.addEnvironment('CA_KEY_ID', this.caKey.keyArn);
        this.caKey.grant(fn, 'kms:Sign', 'kms:GetPublicKey');
      }
      for (const fn of [this.xdsFunction, this.adminFunction, this.catalogFunction, this.reconcilerFunction]) {
        fn.addEnvironment('DATA_KEY_ID', this.dataKey.keyArn);
        this.dataKey.grant(fn, 'kms:Decrypt', 'kms:GenerateDataKey');
      }
    }
    // The management API's GET /bootstrap/<service> points Envoys at the front door.
    this.adminFunction.addEnvironment('XDS_URL', this.xdsUrl.url);

    const target = (fn: lambda.IFunction) =>
      new targets.LambdaFunction(fn, { deadLetterQueue: this.deliveryDlq, retryAttempts: 10, maxEventAge: Duration.hours(2) });
    this.ecsTaskRule = new events.Rule(this, 'EcsTaskStateRule', {
      description: 'ECS task state changes of service tasks → lifecycle',
      eventPattern: ecsTaskStatePattern(props.ecsClusterArns ?? []),
      targets: [target(this.lifecycleFunction)],
    });
    this.ec2StateRule = new events.Rule(this, 'Ec2StateRule', {
      description: 'EC2 instance state changes → lifecycle',
      eventPattern: ec2InstanceStatePattern(),
      targets: [target(this.lifecycleFunction)],
    });
    this.autoScalingLifecycleRule = new events.Rule(this, 'AutoScalingLifecycleRule', {
      description: 'Auto Scaling lifecycle actions of the mesh hooks → lifecycle',
      eventPattern: autoScalingLifecyclePattern(Object.values(lifecycleHookNames), []),
      targets: [target(this.lifecycleFunction)],
    });
    this.reconcileRule = new events.Rule(this, 'ReconcileSchedule', {
      description: 'Runs the reconciler',
      schedule: props.reconcileSchedule ?? events.Schedule.rate(Duration.minutes(5)),
      targets: [target(this.reconcilerFunction)],
    });

    this.monitoring = new ControlPlaneMonitoring(this, 'Monitoring', {
      functions: [
        this.xdsFunction,
        this.adminFunction,
        this.lifecycleFunction,
        this.lifecycleCompleteFunction,
        this.reconcilerFunction,
        this.catalogFunction,
      ],
      deadLetterQueues: [this.deliveryDlq, this.lifecycleDlq, this.drainDlq],
      alarmTopic: props.alarmTopic,
    });

    new CfnOutput(this, 'XdsUrl', { value: this.xdsUrl.url, description: 'The xDS front door (SigV4, service lambda)' });
    new CfnOutput(this, 'XdsHost', { value: this.xdsHost, description: 'Host the xDS cluster rewrites to and signs' });
    new CfnOutput(this, 'AdminUrl', { value: this.adminUrl.url, description: 'The management API (SigV4, service lambda)' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }

  /**
   * grantPoll lets an Envoy's role (instance or task role) poll the xDS front door: both
   * lambda:InvokeFunctionUrl (for AWS_IAM URLs) and lambda:InvokeFunction restricted to
   * invocations through the URL, as function URLs created since October 2025 require.
   */
  public grantPoll(grantee: iam.IGrantable): iam.Grant {
    return this.xdsFunction.grantInvokeUrl(grantee);
  }

  /** grantAdmin lets a principal call the management API. */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return this.adminFunction.grantInvokeUrl(grantee);
  }

  /**
   * attachAutoScalingGroup puts the mesh's launch and terminate hooks on a group, narrows the
   * lifecycle rule to it, tags its instances with their mesh service, and lets the lifecycle
   * functions complete its hooks (and only its hooks).
   */
  public attachAutoScalingGroup(asg: autoscaling.AutoScalingGroup, options: AttachAutoScalingGroupOptions): void {
    const service = typeof options.service === 'string' ? options.service : options.service.serviceName;
    const drainSeconds = typeof options.service === 'string' ? undefined : options.service.drainSeconds;
    const terminateHeartbeat = options.terminateHeartbeat ?? Duration.seconds((drainSeconds ?? maxDrainSeconds) + 120);
    if (drainSeconds !== undefined && terminateHeartbeat.toSeconds() <= drainSeconds) {
      throw new Error(
        `attachAutoScalingGroup: terminateHeartbeat (${terminateHeartbeat.toSeconds()} s) must exceed the drain period of "${service}" (${drainSeconds} s)`,
      );
    }
    const metadata = JSON.stringify({ service });
    asg.addLifecycleHook('MeshLaunchHook', {
      lifecycleHookName: lifecycleHookNames.launch,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      heartbeatTimeout: options.launchHeartbeat ?? Duration.minutes(5),
      defaultResult: autoscaling.DefaultResult.CONTINUE,
      notificationMetadata: metadata,
    });
    asg.addLifecycleHook('MeshTerminateHook', {
      lifecycleHookName: lifecycleHookNames.terminate,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      heartbeatTimeout: terminateHeartbeat,
      defaultResult: autoscaling.DefaultResult.CONTINUE,
      notificationMetadata: metadata,
    });
    // The lifecycle function finds an instance's service by this tag (MESH_TAG_KEY).
    Tags.of(asg).add(this.meshTagKey, service, { applyToLaunchedInstances: true });

    this.autoScalingLifecycleRule.addEventPattern({ detail: { AutoScalingGroupName: [asg.autoScalingGroupName] } });
    if (this.attachedGroups.size === 0) {
      this.lifecycleFunction.addToRolePolicy(this.completeLifecycleStatement);
      this.lifecycleCompleteFunction.addToRolePolicy(this.completeLifecycleStatement);
    }
    this.attachedGroups.add(asg.autoScalingGroupName);
    this.completeLifecycleStatement.addResources(asg.autoScalingGroupArn);
  }
}

/** The DynamoDB actions the store uses (shared/store/mesh-store.ts): no Scan, no table management. */
export const tableActions = {
  read: ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'],
  readWrite: [
    'dynamodb:GetItem',
    'dynamodb:BatchGetItem',
    'dynamodb:Query',
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
  ],
} as const;

function dlq(scope: Construct, id: string): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}

/** ec2:DescribeInstances supports no resource-level permissions: the action is named, the resource is `*`. */
function describeInstances(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['ec2:DescribeInstances'], resources: ['*'] });
}

/** Auto Scaling's Describe* actions support no resource-level permissions either. */
function describeAutoScalingInstances(): iam.PolicyStatement {
  return new iam.PolicyStatement({ actions: ['autoscaling:DescribeAutoScalingInstances'], resources: ['*'] });
}

/**
 * ecs:ListTasks is documented with the container-instance resource type, but a ListTasks by
 * cluster and service (what the reconciler calls; Fargate tasks have no container instance) is
 * reported denied when scoped so (awsdocs/amazon-ecs-developer-guide#211): `*`, narrowed by
 * the `ecs:cluster` condition when the clusters are known.
 */
function listTasks(clusterArns: readonly string[] | undefined): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['ecs:ListTasks'],
    resources: ['*'],
    ...(clusterArns && clusterArns.length > 0 ? { conditions: { ArnEquals: { 'ecs:cluster': [...clusterArns] } } } : {}),
  });
}

/**
 * ecsStatement scopes ECS read actions to the account's resources of one type and, when the
 * control plane is given its clusters, to those clusters through the `ecs:cluster` condition.
 */
function ecsStatement(
  scope: Construct,
  actions: string[],
  resourceType: 'task' | 'container-instance',
  clusterArns: readonly string[] | undefined,
): iam.PolicyStatement {
  const stack = Stack.of(scope);
  const resource = stack.formatArn({ service: 'ecs', resource: resourceType, resourceName: '*' });
  return new iam.PolicyStatement({
    actions,
    resources: [resource],
    ...(clusterArns && clusterArns.length > 0 ? { conditions: { ArnEquals: { 'ecs:cluster': [...clusterArns] } } } : {}),
  });
}
