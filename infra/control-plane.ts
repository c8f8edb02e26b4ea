import { CfnOutput, Duration, Stack, Tags, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { RenderSettings, defaultRenderSettings } from '../shared/render/settings';
import { ControlPlaneProps, controlPlaneDefaults, validateControlPlaneProps } from './control-plane-props';
import { frontDoor } from './front-door';
import { lifecycleHookNames, lifecyclePipeline, ruleTarget } from './lifecycle-pipeline';
import { MeshFunction } from './mesh-function';
import { ControlPlaneMonitoring } from './monitoring';
import { reconciler } from './reconciler';
import { renewal, renewalMissedPeriod } from './renewal';
import { rolloutController } from './rollouts';
import { fleetRebuild } from './rebuild';
import { stateStore } from './state-store';
import { grantKeyUse } from './iam';
import { XdsGuardOptions, XdsGuardPolicy, xdsGuardDocument } from './xds-guard';
import { XdsServer } from './xds-server';

export type { ControlPlaneProps } from './control-plane-props';
export { lifecycleHookNames } from './lifecycle-pipeline';

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
  /**
   * How long a launching instance may take until its Envoy has configuration (its first
   * accepted CDS and LDS): the launch hook is completed (CONTINUE) once it has, and ABANDONed
   * when it has not by then. Must be shorter than launchHeartbeat. `null` completes the launch
   * hook at once (the instance goes in service before its sidecar is configured).
   * @default launchHeartbeat minus 60 s
   */
  readonly readyTimeout?: Duration | null;
}

/**
 * ControlPlane is everything the Envoy control plane needs in one account and region, built
 * from its parts: the state (table and mesh keys, state-store.ts), the front door Envoys and
 * operators reach (front-door.ts), the lifecycle pipeline (lifecycle-pipeline.ts), the
 * scheduled reconciler (reconciler.ts), the scheduled certificate renewal (renewal.ts), and the
 * monitoring that watches them (monitoring.ts).
 * The parts are built in this construct's scope, so every resource keeps its logical ID.
 */
export class ControlPlane extends Construct {
  // Each part's members are assigned from what it returns (see the constructor).
  public readonly table!: dynamodb.Table;
  public readonly xdsFunction!: MeshFunction;
  public readonly xdsUrl!: lambda.FunctionUrl;
  /** The front door's host name (`<id>.lambda-url.<region>.on.aws`), known at deploy time. */
  public readonly xdsHost!: string;
  public readonly adminFunction!: MeshFunction;
  public readonly adminUrl!: lambda.FunctionUrl;
  public readonly lifecycleFunction!: MeshFunction;
  public readonly lifecycleCompleteFunction!: MeshFunction;
  public readonly reconcilerFunction!: MeshFunction;
  /** Renews service certificates on its own schedule (only with mesh keys). */
  public readonly renewalFunction?: MeshFunction;
  /** The rollout controller, run once a minute (rollouts.ts). */
  public readonly rolloutFunction!: MeshFunction;
  public readonly rolloutRule!: events.Rule;
  /** Renders the fleet again after a deploy that changes rendering, a slice a minute (rebuild.ts). */
  public readonly rebuildFunction!: MeshFunction;
  public readonly rebuildRule!: events.Rule;
  public readonly renewalRule?: events.Rule;
  /** The custom resource handler behind MeshService. */
  public readonly catalogFunction!: MeshFunction;
  /** Delayed "complete this terminate hook" messages: sent by lifecycle, consumed by lifecycle-complete. */
  public readonly drainQueue!: sqs.Queue;
  /** Events EventBridge could not deliver to a target (rule targets' dead-letter queue). */
  public readonly deliveryDlq!: sqs.Queue;
  /** Events the lifecycle function failed on after Lambda's retries, with the error (on-failure destination). */
  public readonly lifecycleDlq!: sqs.Queue;
  /** Drain messages lifecycle-complete failed on five times. */
  public readonly drainDlq!: sqs.Queue;
  public readonly ecsTaskRule!: events.Rule;
  public readonly ec2StateRule!: events.Rule;
  public readonly autoScalingLifecycleRule!: events.Rule;
  public readonly reconcileRule!: events.Rule;
  public readonly monitoring: ControlPlaneMonitoring;
  /** The push tier (ADS over gRPC on Fargate), when pushTier is set. */
  public readonly xdsServer?: XdsServer;
  /**
   * Denies invoking the xds function other than through its URL (a direct invocation can forge
   * the caller), and changing its code or access: attach it to the account's roles with broad
   * Lambda permissions (guardAgainstDirectInvoke), or use xdsGuardDocument as an SCP.
   */
  public readonly xdsGuardPolicy: XdsGuardPolicy;
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
    validateControlPlaneProps(props);
    this.renderSettings = {
      xdsClusterName: props.xdsClusterName ?? defaultRenderSettings.xdsClusterName,
      refreshDelay: props.refreshDelay ?? defaultRenderSettings.refreshDelay,
      requestTimeout: props.requestTimeout ?? defaultRenderSettings.requestTimeout,
      meshName: props.meshName ?? defaultRenderSettings.meshName,
      routeDelivery: props.routeDelivery ?? 'rds',
      ...(props.observability ? { observability: props.observability } : {}),
      ...(props.serviceDomain ? { serviceDomain: props.serviceDomain } : {}),
      ...(props.egress ? { egress: props.egress } : {}),
      ...(props.systemCaBundlePath ? { systemCaBundlePath: props.systemCaBundlePath } : {}),
      ...(props.proxylessMtls ? { proxylessMtls: true } : {}),
    };
    this.meshTagKey = props.meshTagKey ?? controlPlaneDefaults.meshTagKey;

    const state = stateStore(this, props);
    const environment = {
      TABLE_NAME: state.table.tableName,
      XDS_CLUSTER_NAME: this.renderSettings.xdsClusterName,
      XDS_REFRESH_DELAY: this.renderSettings.refreshDelay,
      XDS_REQUEST_TIMEOUT: this.renderSettings.requestTimeout,
      MESH_NAME: this.renderSettings.meshName,
      XDS_ROUTE_DELIVERY: this.renderSettings.routeDelivery!,
      MESH_TAG_KEY: this.meshTagKey,
      ...(props.observability ? { MESH_OBSERVABILITY: JSON.stringify(props.observability) } : {}),
      ...(props.serviceDomain ? { MESH_SERVICE_DOMAIN: props.serviceDomain } : {}),
      ...(this.renderSettings.egress ? { MESH_EGRESS: this.renderSettings.egress } : {}),
      ...(this.renderSettings.systemCaBundlePath ? { SYSTEM_CA_BUNDLE_PATH: this.renderSettings.systemCaBundlePath } : {}),
      ...(this.renderSettings.proxylessMtls ? { MESH_PROXYLESS_MTLS: 'true' } : {}),
    };
    const { logRetention, ecsClusterArns } = props;
    const common = { table: state.table, environment, ecsClusterArns, logRetention };
    const pipeline = lifecyclePipeline(this, {
      ...common,
      // Left out: the default; null: unreserved.
      lifecycleConcurrency: props.lifecycleConcurrency === null ? undefined : (props.lifecycleConcurrency ?? controlPlaneDefaults.lifecycleConcurrency),
    });
    const front = frontDoor(this, { ...common, snapshotCacheTtlMs: props.snapshotCacheTtlMs ?? controlPlaneDefaults.snapshotCacheTtlMs });
    const scheduled = reconciler(this, { ...common, schedule: props.reconcileSchedule, target: ruleTarget(pipeline.deliveryDlq) });
    const renewalInterval = props.renewalInterval ?? controlPlaneDefaults.renewalInterval;
    const renewing = state.caKey && state.dataKey ? renewal(this, { ...common, interval: renewalInterval, target: ruleTarget(pipeline.deliveryDlq) }) : {};
    const rollouts = rolloutController(this, { ...common, target: ruleTarget(pipeline.deliveryDlq) });
    const rebuild = fleetRebuild(this, { ...common, target: ruleTarget(pipeline.deliveryDlq) });
    Object.assign(this, { ...state, ...pipeline, ...front, ...scheduled, ...renewing, ...rollouts, ...rebuild } satisfies Partial<ControlPlane>);

    this.grantMeshKeys();
    this.xdsGuardPolicy = new XdsGuardPolicy(this, 'XdsGuard', this.xdsFunction);
    if (props.pushTier) {
      this.xdsServer = new XdsServer(this, 'PushTier', { ...props.pushTier, table: this.table, caKey: this.caKey!, environment, logRetention });
      // The management API's GET /bootstrap/<service>?tier=grpc points Envoys at the push tier.
      this.adminFunction.addEnvironment('PUSH_TIER_HOST', this.xdsServer.host);
      this.adminFunction.addEnvironment('PUSH_TIER_PORT', String(this.xdsServer.port));
      new CfnOutput(this, 'PushTierHost', { value: this.xdsServer.host, description: `Where Envoys open their ADS stream (mutual TLS, port ${this.xdsServer.port})` });
    }

    this.monitoring = new ControlPlaneMonitoring(this, 'Monitoring', {
      functions: [
        this.xdsFunction,
        this.adminFunction,
        this.lifecycleFunction,
        this.lifecycleCompleteFunction,
        this.reconcilerFunction,
        this.catalogFunction,
        ...(this.renewalFunction ? [this.renewalFunction] : []),
        this.rolloutFunction,
        this.rebuildFunction,
        ...(this.xdsServer ? [this.xdsServer.certificateFunction] : []),
      ],
      deadLetterQueues: [this.deliveryDlq, this.lifecycleDlq, this.drainDlq],
      alarmTopic: props.alarmTopic,
      ...(this.renewalFunction ? { renewalMissedPeriod: renewalMissedPeriod(renewalInterval) } : {}),
      ...(this.xdsServer ? { pushTier: this.xdsServer } : {}),
    });

    new CfnOutput(this, 'XdsUrl', { value: this.xdsUrl.url, description: 'The xDS front door (SigV4, service lambda)' });
    new CfnOutput(this, 'XdsHost', { value: this.xdsHost, description: 'Host the xDS cluster rewrites to and signs' });
    new CfnOutput(this, 'AdminUrl', { value: this.adminUrl.url, description: 'The management API (SigV4, service lambda)' });
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
  }

  /**
   * grantMeshKeys: the management API and the MeshService handler issue certificates when a
   * service is declared (and re-issue them when its roles shrink), and the renewal function
   * renews them before they expire (the CA signs, the data key seals the private key); the xds
   * function only opens sealed keys to serve them over SDS (Decrypt of the data key: it never
   * makes one). The reconciler has neither. Each role is named in the key's own policy
   * (state-store.ts: the account administers the keys but cannot use them through IAM alone)
   * and granted in its IAM policy too. Keys passed in (meshKeys) keep the policy they have:
   * only the IAM side is added, which their policy must let count.
   */
  private grantMeshKeys(): void {
    if (!this.dataKey || !this.caKey || !this.renewalFunction) return;
    const issuers = [this.adminFunction, this.catalogFunction, this.renewalFunction];
    for (const fn of issuers) {
      fn.addEnvironment('CA_KEY_ID', this.caKey.keyArn);
      grantKeyUse(this.caKey, fn, ['kms:Sign', 'kms:GetPublicKey']);
    }
    for (const fn of issuers) {
      fn.addEnvironment('DATA_KEY_ID', this.dataKey.keyArn);
      grantKeyUse(this.dataKey, fn, ['kms:Decrypt', 'kms:GenerateDataKey']);
    }
    this.xdsFunction.addEnvironment('DATA_KEY_ID', this.dataKey.keyArn);
    grantKeyUse(this.dataKey, this.xdsFunction, ['kms:Decrypt']);
  }

  /**
   * grantGatewayCertificateRead lets the functions that copy gateway listener certificates read
   * an operator's certificate secret: the management API and the MeshService handler (a
   * gateway declared through either is checked and copied at once) and the renewal function
   * (which copies a rotated secret). secretsmanager:GetSecretValue and DescribeSecret on that
   * secret's ARN alone; kms:Decrypt through Secrets Manager too when the secret was imported
   * with its customer managed key (`Secret.fromSecretAttributes({ encryptionKey })`).
   */
  public grantGatewayCertificateRead(secret: secretsmanager.ISecret): void {
    for (const fn of [this.adminFunction, this.catalogFunction, ...(this.renewalFunction ? [this.renewalFunction] : [])]) {
      secret.grantRead(fn);
      // An imported key's grant adds nothing to the role: say it here, through Secrets Manager only.
      if (secret.encryptionKey) {
        fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['kms:Decrypt'],
            resources: [secret.encryptionKey.keyArn],
            conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${secret.env.region}.${Stack.of(this).urlSuffix}` } },
          }),
        );
      }
    }
  }

  /**
   * grantPoll lets an Envoy's role (instance or task role) poll the xDS front door: both
   * lambda:InvokeFunctionUrl (for AWS_IAM URLs) and lambda:InvokeFunction restricted to
   * invocations through the URL, as function URLs created since October 2025 require.
   */
  public grantPoll(grantee: iam.IGrantable): iam.Grant {
    return this.xdsFunction.grantInvokeUrl(grantee);
  }

  /**
   * guardAgainstDirectInvoke attaches the xds guard to a role or group of the account that has
   * broad Lambda permissions: it may then reach the xds function only through its URL (as a
   * node does), never with a direct invocation whose event names any caller it likes.
   */
  public guardAgainstDirectInvoke(...principals: (iam.IRole | iam.IGroup)[]): void {
    for (const principal of principals) {
      if ('roleName' in principal) this.xdsGuardPolicy.attachToRole(principal);
      else this.xdsGuardPolicy.attachToGroup(principal);
    }
  }

  /**
   * xdsGuardDocument is the same guard as a policy document for an SCP or a permissions
   * boundary (infra/xds-guard.ts); exempt the role CloudFormation deploys with.
   */
  public xdsGuardDocument(options: XdsGuardOptions = {}): iam.PolicyDocument {
    return xdsGuardDocument(this.xdsFunction, options);
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
    const launchHeartbeat = options.launchHeartbeat ?? Duration.minutes(5);
    const launchMetadata = launchHookMetadata(service, launchHeartbeat, options.readyTimeout);
    asg.addLifecycleHook('MeshLaunchHook', {
      lifecycleHookName: lifecycleHookNames.launch,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
      heartbeatTimeout: launchHeartbeat,
      defaultResult: autoscaling.DefaultResult.CONTINUE,
      notificationMetadata: launchMetadata,
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
    const groupId = Stack.of(asg).getLogicalId(asg.node.defaultChild as autoscaling.CfnAutoScalingGroup);
    for (const fn of [this.lifecycleFunction, this.lifecycleCompleteFunction]) {
      Validations.of(fn).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:autoscaling:<AWS::Region>:<AWS::AccountId>:autoScalingGroup:*:autoScalingGroupName/<${groupId}>]`,
        reason: `CompleteLifecycleAction is scoped to the attached group ${asg.node.path}; the "*" is the group's id, which is made at deploy time`,
      });
    }
  }
}

/**
 * launchHookMetadata tells the lifecycle function the service of a launching instance and how
 * long to wait for its Envoy to be configured (shared/lifecycle/readiness.ts), which must end
 * before the hook's heartbeat does, or Auto Scaling would continue without us.
 */
function launchHookMetadata(service: string, heartbeat: Duration, readyTimeout: Duration | null | undefined): string {
  if (readyTimeout === null) return JSON.stringify({ service });
  const seconds = readyTimeout?.toSeconds() ?? heartbeat.toSeconds() - 60;
  if (seconds <= 0 || seconds >= heartbeat.toSeconds()) {
    throw new Error(
      `attachAutoScalingGroup: readyTimeout (${seconds} s) must be above 0 and shorter than launchHeartbeat (${heartbeat.toSeconds()} s) for "${service}"`,
    );
  }
  return JSON.stringify({ service, readyTimeoutSeconds: seconds });
}
