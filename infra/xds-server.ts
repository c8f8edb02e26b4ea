import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { pushMetricNames, pushMetricsService } from '../server/metrics';
import { certificateAuthorityReads, grantKeyUse, nodeStatusWrites, tableActions } from './iam';
import { MeshFunction } from './mesh-function';
import { meshMetric } from './monitoring';
import { functionEntries, repoRoot } from './paths';

/** The options of the push tier a ControlPlane turns on (ControlPlaneProps.pushTier). */
export interface PushTierOptions {
  /** The VPC the tasks and the load balancer run in (the Envoys' VPC, or one peered with it). */
  readonly vpc: ec2.IVpc;
  /** Where tasks and load balancer go. @default - the VPC's private subnets with egress */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /** Who may open streams (the Envoys' address ranges). @default - the VPC's CIDR */
  readonly allowFrom?: readonly ec2.IPeer[];
  /** Tasks at least; two or more spread over zones. @default 2 */
  readonly minTasks?: number;
  /** @default 10 */
  readonly maxTasks?: number;
  /** @default 512 (0.5 vCPU) */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryLimitMiB?: number;
  /** Autoscaling keeps the average of open streams per task near this. @default 2000 */
  readonly targetStreamsPerTask?: number;
  /** Autoscaling keeps the tasks' average CPU near this. @default 60 */
  readonly targetCpuPercent?: number;
  /** A task refuses streams beyond this (RESOURCE_EXHAUSTED; the client tries again, elsewhere). @default 10000 */
  readonly maxStreamsPerTask?: number;
  /** The load balancer's port. @default 443 */
  readonly port?: number;
  /**
   * How often each task reads the services it has streams of for changes (CHANGE_CHECK_MS):
   * the longest a change waits to be pushed, and most of the tier's DynamoDB bill (docs/cost.md).
   * @default 500 ms
   */
  readonly changeCheckInterval?: Duration;
}

export interface XdsServerProps extends PushTierOptions {
  readonly table: dynamodb.ITable;
  /**
   * The mesh CA key: the push-certificate function signs the tasks' own certificate with it
   * (server/identity.ts); the tasks themselves cannot use it.
   */
  readonly caKey: kms.IKey;
  /** What the functions get too: TABLE_NAME, MESH_NAME, the render settings. */
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention?: logs.RetentionDays;
}

/** The push tier's timings, in one place because they depend on each other (docs/deploy.md explains them). */
export const pushTierTimings = {
  /** The container port. */
  containerPort: 18001,
  /** How long the server lets streams close after SIGTERM (GRACE_MS) before it cancels the rest. */
  graceSeconds: 10,
  /** SIGTERM to SIGKILL: the grace, the last metrics line, and margin. */
  stopTimeoutSeconds: 30,
  /** The NLB stops sending new connections to a task this long before ECS sends it SIGTERM. */
  deregistrationDelaySeconds: 20,
  /** A new task has this long to get its certificate (the push-certificate function) and listen before health checks count. */
  healthCheckGraceSeconds: 120,
  /** TCP idle timeout of the listener; gRPC keepalive pings every 30 s keep a stream's connection busy. */
  tcpIdleTimeoutSeconds: 350,
} as const;

/**
 * XdsServer runs the push tier (server/main.ts) as an ECS Fargate service on arm64 behind an
 * internal Network Load Balancer that passes TCP through, so the mutual TLS of each stream is
 * between the Envoy and the task (server/identity.ts: a stream is bound to its service by the
 * mesh certificate it presents). At least two tasks across zones; autoscaling on CPU and on
 * open streams per task (the EMF metric the server prints, server/metrics.ts); rolling deploys
 * that deregister a task before SIGTERM, after which it ends its streams with GOAWAY so Envoys
 * reconnect to another task with the config they have.
 */
export class XdsServer extends Construct {
  public readonly cluster: ecs.Cluster;
  public readonly service: ecs.FargateService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly loadBalancer: elbv2.NetworkLoadBalancer;
  public readonly targetGroup: elbv2.NetworkTargetGroup;
  public readonly logGroup: logs.LogGroup;
  /** Who may reach the load balancer (allowFrom). */
  public readonly lbSecurityGroup: ec2.SecurityGroup;
  /** Where Envoys open their ADS stream: the load balancer's DNS name. */
  public readonly host: string;
  public readonly port: number;
  /** The fewest tasks autoscaling keeps. */
  public readonly minTasks: number;
  /**
   * Issues the tasks their own certificate (`_xds`) for a key they keep, and nothing else: it,
   * not the task role, may sign with the CA key (functions/push-certificate).
   */
  public readonly certificateFunction: MeshFunction;

  constructor(scope: Construct, id: string, props: XdsServerProps) {
    super(scope, id);
    validatePushTier(props);
    const minTasks = (this.minTasks = props.minTasks ?? 2);
    const maxTasks = props.maxTasks ?? 10;
    const t = pushTierTimings;
    this.port = props.port ?? 443;
    const subnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    this.certificateFunction = new MeshFunction(this, 'CertificateFunction', {
      entry: functionEntries.pushCertificate,
      serviceName: 'push-certificate',
      description: "Issues the push tier's tasks their own certificate (_xds) and no other",
      memorySize: 256,
      timeout: Duration.seconds(10),
      // Each call is a KMS Sign: a crash-looping or compromised task must not use up the
      // account's Sign quota the other issuers share. Tasks call it about twice a day each.
      reservedConcurrentExecutions: 2,
      environment: { ...props.environment, CA_KEY_ID: props.caKey.keyArn },
      logRetention: props.logRetention,
    });
    this.cluster = new ecs.Cluster(this, 'Cluster', { vpc: props.vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.logGroup = new logs.LogGroup(this, 'Logs', { retention: props.logRetention ?? logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu ?? 512,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    this.taskDefinition.addContainer('xds', {
      image: ecs.ContainerImage.fromAsset(stagePushTierImage(), { platform: Platform.LINUX_ARM64 }),
      essential: true,
      portMappings: [{ containerPort: t.containerPort }],
      environment: {
        ...props.environment,
        XDS_TLS: 'mesh',
        PUSH_CERTIFICATE_FUNCTION: this.certificateFunction.functionName,
        GRPC_PORT: String(t.containerPort),
        // No REST routes here: under mesh TLS they would refuse every poll, and the NLB checks the gRPC port.
        HTTP_PORT: 'off',
        GRACE_MS: String(t.graceSeconds * 1000),
        MAX_STREAMS: String(props.maxStreamsPerTask ?? 10_000),
        CHANGE_CHECK_MS: String(props.changeCheckInterval?.toMilliseconds() ?? 500),
      },
      stopTimeout: Duration.seconds(t.stopTimeoutSeconds),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'xds', logGroup: this.logGroup }),
      healthCheck: {
        // Listening is healthy: the port opens once the certificate is issued and the table read.
        command: ['CMD', 'node', '-e', `require('net').connect(${t.containerPort},'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))`],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(60),
      },
    });
    this.grantState(props);

    const lbSecurityGroup = (this.lbSecurityGroup = new ec2.SecurityGroup(this, 'LoadBalancerSecurityGroup', {
      vpc: props.vpc,
      description: 'Push tier load balancer: ADS streams from the Envoys',
      allowAllOutbound: false,
    }));
    for (const peer of props.allowFrom ?? [ec2.Peer.ipv4(props.vpc.vpcCidrBlock)]) {
      lbSecurityGroup.addIngressRule(peer, ec2.Port.tcp(this.port), 'ADS streams (mutual TLS) from Envoys');
    }
    const taskSecurityGroup = new ec2.SecurityGroup(this, 'TaskSecurityGroup', {
      vpc: props.vpc,
      description: 'Push tier tasks: ADS from the load balancer only',
      allowAllOutbound: true,
    });
    taskSecurityGroup.addIngressRule(lbSecurityGroup, ec2.Port.tcp(t.containerPort), 'ADS and health checks from the load balancer');
    lbSecurityGroup.addEgressRule(taskSecurityGroup, ec2.Port.tcp(t.containerPort), 'to the push tier tasks');

    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: minTasks,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      securityGroups: [taskSecurityGroup],
      vpcSubnets: subnets,
      healthCheckGracePeriod: Duration.seconds(t.healthCheckGraceSeconds),
      availabilityZoneRebalancing: ecs.AvailabilityZoneRebalancing.ENABLED,
    });

    this.loadBalancer = new elbv2.NetworkLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: false,
      vpcSubnets: subnets,
      crossZoneEnabled: true,
      securityGroups: [lbSecurityGroup],
    });
    this.targetGroup = new elbv2.NetworkTargetGroup(this, 'Targets', {
      vpc: props.vpc,
      port: t.containerPort,
      protocol: elbv2.Protocol.TCP,
      targetType: elbv2.TargetType.IP,
      deregistrationDelay: Duration.seconds(t.deregistrationDelaySeconds),
      // The task ends its streams itself (GOAWAY on SIGTERM): the NLB must not reset them first.
      connectionTermination: false,
      healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10), healthyThresholdCount: 2, unhealthyThresholdCount: 2 },
    });
    this.service.attachToNetworkTargetGroup(this.targetGroup);
    this.loadBalancer.addListener('Ads', {
      port: this.port,
      protocol: elbv2.Protocol.TCP,
      defaultTargetGroups: [this.targetGroup],
      tcpIdleTimeout: Duration.seconds(t.tcpIdleTimeoutSeconds),
    });
    this.host = this.loadBalancer.loadBalancerDnsName;

    const scaling = this.service.autoScaleTaskCount({ minCapacity: minTasks, maxCapacity: maxTasks });
    scaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: props.targetCpuPercent ?? 60 });
    scaling.scaleToTrackCustomMetric('Streams', {
      metric: meshMetric(pushMetricsService, pushMetricNames.activeStreams, 'Average'),
      targetValue: props.targetStreamsPerTask ?? 2000,
      // Scale in slowly: each task removed moves its streams (and their resends) to the others.
      scaleInCooldown: Duration.minutes(5),
      scaleOutCooldown: Duration.minutes(1),
    });
    this.acknowledgeFindings();
  }

  /**
   * grantState: the task reads the state, writes node status only (as the xds function), and
   * may invoke the push-certificate function, nothing more: no use of the CA key, so a
   * compromised task cannot mint a certificate for a service and impersonate it. The function
   * may sign with the CA key (named in the key's policy, and in its IAM policy) and read the
   * CA certificate; it signs the `_xds` identity only (shared/state/push-certificate.ts).
   */
  private grantState(props: XdsServerProps): void {
    const role = this.taskDefinition.taskRole;
    props.table.grant(role, ...tableActions.read);
    role.addToPrincipalPolicy(nodeStatusWrites(props.table));
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [this.certificateFunction.functionArn] }));

    const fn = this.certificateFunction;
    fn.addToRolePolicy(certificateAuthorityReads(props.table));
    grantKeyUse(props.caKey, fn, ['kms:Sign', 'kms:GetPublicKey']);
  }

  private acknowledgeFindings(): void {
    Validations.of(this.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The push tier environment holds no secret: table name, mesh settings, the certificate function name and timings; the task makes its key in memory',
    });
    Validations.of(this.taskDefinition.executionRole!).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecr:GetAuthorizationToken, which ECS needs to pull the image from the CDK asset repository, supports no resource-level permission; the pull itself is scoped to that repository',
    });
    Validations.of(this.lbSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'Ingress is the VPC CIDR (a deploy-time token cdk-nag cannot read) or the allowFrom peers given, on the ADS port only; streams are mutual TLS besides',
    });
    Validations.of(this.loadBalancer).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'A TCP listener writes no access logs (NLB logs TLS listeners only); TLS ends at the tasks so that each stream is mutual TLS end to end',
    });
  }
}

function validatePushTier(props: XdsServerProps): void {
  const problems: string[] = [];
  const whole = (name: keyof PushTierOptions, value: number | undefined, min: number) => {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) problems.push(`${name} must be a whole number of ${min} or more (got ${value})`);
  };
  whole('minTasks', props.minTasks, 2);
  whole('maxTasks', props.maxTasks, 2);
  whole('targetStreamsPerTask', props.targetStreamsPerTask, 1);
  whole('maxStreamsPerTask', props.maxStreamsPerTask, 1);
  if ((props.maxTasks ?? 10) < (props.minTasks ?? 2)) problems.push(`maxTasks (${props.maxTasks ?? 10}) must be at least minTasks (${props.minTasks ?? 2})`);
  if ((props.targetStreamsPerTask ?? 2000) > (props.maxStreamsPerTask ?? 10_000)) {
    problems.push(`targetStreamsPerTask (${props.targetStreamsPerTask ?? 2000}) must not exceed maxStreamsPerTask (${props.maxStreamsPerTask ?? 10_000})`);
  }
  if (problems.length > 0) throw new Error(`XdsServer: ${problems.join('; ')}`);
}

let staged: string | undefined;

/**
 * stagePushTierImage makes the image's build context once per process: server/main.ts bundled
 * by esbuild into server/main.js (CommonJS, every dependency inside, source map), Envoy's
 * descriptor set the codec reads, and server/Dockerfile. Docker then only copies files onto
 * an ECR Public base image: nothing is fetched from npm at deploy time, and synth needs no Docker.
 */
export function stagePushTierImage(): string {
  if (staged) return staged;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'push-tier-image-'));
  // Synth copies the context into the cloud assembly: the staging directory is not needed after.
  process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  buildSync({
    entryPoints: [path.join(repoRoot, 'server', 'main.ts')],
    outfile: path.join(dir, 'server', 'main.js'),
    bundle: true,
    platform: 'node',
    target: 'node22',
    format: 'cjs',
    sourcemap: true,
    sourcesContent: false,
    minify: true,
    legalComments: 'none',
    logLevel: 'error',
  });
  const schema = path.join(repoRoot, '.envoy-schema', 'envoy.binpb');
  if (!fs.existsSync(schema)) {
    const built = spawnSync(process.execPath, [path.join(repoRoot, 'scripts', 'build-envoy-schema.mjs')], { encoding: 'utf8' });
    if (built.status !== 0) throw new Error(`XdsServer: Envoy's descriptor set is missing and could not be built: ${built.stderr || built.stdout}`);
  }
  fs.mkdirSync(path.join(dir, '.envoy-schema'));
  fs.copyFileSync(schema, path.join(dir, '.envoy-schema', 'envoy.binpb'));
  fs.copyFileSync(path.join(repoRoot, 'server', 'Dockerfile'), path.join(dir, 'Dockerfile'));
  staged = dir;
  return dir;
}
