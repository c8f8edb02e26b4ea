import { RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { ControlPlane } from './control-plane';
import { MeshDns } from './mesh-dns';
import { MeshService } from './mesh-service';
import { addMeshSidecar, addMeshUserData } from './sidecar';

export interface ExampleMeshStackProps extends StackProps {
  /** Run in this VPC. @default - a new two-AZ VPC with one NAT gateway */
  readonly vpc?: ec2.IVpc;
  /** The payload image of both services (it listens on port 80). @default nginx from ECR Public */
  readonly appImage?: string;
  /**
   * Also run the push tier (ADS over gRPC on Fargate, infra/xds-server.ts) in the VPC, and put
   * both services' sidecars on it (`tier: 'push'`): `cdk synth -c pushTier=true`. @default false
   */
  readonly pushTier?: boolean;
}

/**
 * ExampleMeshStack is the control plane with two services: `orders` on ECS Fargate calls
 * `payments` on an EC2 Auto Scaling group. `orders` is transparent: its payload calls
 * `http://payments.mesh.internal/` by name, its task's traffic redirected through Envoy (the
 * task definition's proxy configuration), and MeshDns gives both services their names.
 * Environment-agnostic and lookup-free, so it synthesizes offline.
 */
export class ExampleMeshStack extends Stack {
  public readonly controlPlane: ControlPlane;
  public readonly orders: MeshService;
  public readonly payments: MeshService;
  public readonly ordersService: ecs.FargateService;
  public readonly paymentsGroup: autoscaling.AutoScalingGroup;
  public readonly cluster: ecs.Cluster;
  public readonly paymentsTemplate: ec2.LaunchTemplate;
  public readonly dns: MeshDns;

  constructor(scope: Construct, id: string, props: ExampleMeshStackProps = {}) {
    super(scope, id, props);
    const appImage = props.appImage ?? 'public.ecr.aws/nginx/nginx:stable';
    const vpc =
      props.vpc ??
      new ec2.Vpc(this, 'Vpc', {
        maxAzs: 2,
        natGateways: 1,
        subnetConfiguration: [
          { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
          { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
        ],
        // Nothing here uses the default security group; restricting it would add a helper Lambda.
        restrictDefaultSecurityGroup: false,
        // Rejected traffic only: enough to see what a security group refused, at little cost.
        flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } },
      });
    const tier = props.pushTier ? 'push' : 'rest';
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    this.cluster = cluster;

    this.controlPlane = new ControlPlane(this, 'ControlPlane', {
      ecsClusterArns: [cluster.clusterArn],
      // An example is meant to be torn down: production keeps the defaults (retain, protected).
      tableRemovalPolicy: RemovalPolicy.DESTROY,
      deletionProtection: false,
      // Every sidecar's metrics to CloudWatch and 5 % of requests traced in X-Ray: the agents ride beside Envoy.
      observability: { metrics: { enabled: true }, tracing: { provider: 'xray', samplingPercent: 5 } },
      ...(props.pushTier ? { pushTier: { vpc } } : {}),
    });

    const ordersTask = new ecs.FargateTaskDefinition(this, 'OrdersTask', {
      cpu: 512,
      memoryLimitMiB: 1024,
      runtimePlatform: { cpuArchitecture: ecs.CpuArchitecture.ARM64, operatingSystemFamily: ecs.OperatingSystemFamily.LINUX },
    });
    const paymentsRole = new iam.Role(this, 'PaymentsRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') });
    paymentsRole.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore'));

    this.payments = new MeshService(this, 'Payments', {
      controlPlane: this.controlPlane,
      name: 'payments',
      inboundPort: 15000,
      appPort: 80,
      protocol: 'http',
      drainSeconds: 60,
    });
    this.orders = new MeshService(this, 'Orders', {
      controlPlane: this.controlPlane,
      name: 'orders',
      inboundPort: 15000,
      appPort: 80,
      protocol: 'http',
      dependencies: [{ service: 'payments', localPort: 9001 }],
      ecs: { serviceName: 'orders', cluster: cluster.clusterArn },
      // The payload calls http://payments.mesh.internal/ as it would without a mesh (127.0.0.1:9001 works too).
      interception: { mode: 'transparent' },
    });
    this.dns = new MeshDns(this, 'Dns', { controlPlane: this.controlPlane, vpc, services: [this.payments, this.orders] });
    // No identity prop: addMeshSidecar binds the task role to orders and addMeshUserData the
    // instance role to payments, so only their nodes fetch their configuration and certificate.

    // Mesh traffic between the services: their Envoys' inbound port, inside the VPC only.
    const meshPeers = new ec2.SecurityGroup(this, 'MeshPeers', { vpc, description: 'Envoy sidecars of the example mesh' });
    meshPeers.addIngressRule(meshPeers, ec2.Port.tcp(15000), 'Envoy inbound from mesh peers');

    // orders: Fargate tasks with an Envoy sidecar.
    const ordersApp = ordersTask.addContainer('app', {
      image: ecs.ContainerImage.fromRegistry(appImage),
      essential: true,
      portMappings: [{ containerPort: 80 }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'orders' }),
    });
    addMeshSidecar(ordersTask, { controlPlane: this.controlPlane, service: this.orders, appContainers: [ordersApp], tier });
    this.ordersService = new ecs.FargateService(this, 'OrdersService', {
      cluster,
      serviceName: 'orders',
      taskDefinition: ordersTask,
      desiredCount: 2,
      minHealthyPercent: 100,
      circuitBreaker: { rollback: true },
      securityGroups: [meshPeers],
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    // The service is created after its spec: its first tasks' events find it declared.
    this.ordersService.node.addDependency(this.orders);

    // payments: an Auto Scaling group of Graviton instances, Envoy started from user data.
    const paymentsTemplate = (this.paymentsTemplate = new ec2.LaunchTemplate(this, 'PaymentsTemplate', {
      instanceType: ec2.InstanceType.of(ec2.InstanceClass.T4G, ec2.InstanceSize.SMALL),
      machineImage: ec2.MachineImage.latestAmazonLinux2023({ cpuType: ec2.AmazonLinuxCpuType.ARM_64 }),
      userData: ec2.UserData.forLinux(),
      role: paymentsRole,
      securityGroup: meshPeers,
      requireImdsv2: true,
      // The root volume (AL2023's /dev/xvda) encrypted with the account's EBS key.
      blockDevices: [{ deviceName: '/dev/xvda', volume: ec2.BlockDeviceVolume.ebs(20, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }) }],
    }));
    addMeshUserData(paymentsTemplate, { controlPlane: this.controlPlane, service: this.payments, tier });
    paymentsTemplate.userData!.addCommands(`docker run -d --restart always --name app -p 127.0.0.1:80:80 ${appImage}`);
    this.paymentsGroup = new autoscaling.AutoScalingGroup(this, 'PaymentsGroup', {
      vpc,
      launchTemplate: paymentsTemplate,
      minCapacity: 2,
      maxCapacity: 4,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    });
    this.paymentsGroup.node.addDependency(this.payments);
    this.controlPlane.attachAutoScalingGroup(this.paymentsGroup, { service: this.payments });
    // The push tier's tasks issue their certificate from the mesh CA, made with the first service.
    this.controlPlane.xdsServer?.service.node.addDependency(this.payments, this.orders);
    acknowledgeExampleFindings(this);
  }
}

/**
 * acknowledgeExampleFindings records why cdk-nag's findings on the example's own workload (not
 * the control plane) stand: each is a choice of the example, not of the mesh.
 */
function acknowledgeExampleFindings(stack: ExampleMeshStack): void {
  Validations.of(stack.ordersService.taskDefinition).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason: 'The sidecar environment holds no secret: the Envoy bootstrap (xDS URL, service and cluster names) and ENVOY_UID',
  });
  Validations.of(stack.paymentsTemplate.role!).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
    reason: 'Session Manager access to the example instances (no SSH, no open port); AWS maintains the exact actions SSM needs',
  });
  Validations.of(stack.paymentsGroup).acknowledge({
    id: 'AwsSolutions-AS3',
    reason: 'Scaling events reach the control plane through EventBridge and its lifecycle hooks, whose failures alarm; SNS notifications would duplicate them',
  });
}
