import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { GatewayListener, GatewayRoute } from '../shared/model/spec-edges';
import type { ControlPlane } from './control-plane';
import { GatewayLoadBalancerProps, gatewayLoadBalancer } from './gateway-load-balancer';
import { MeshService, MeshServiceProps } from './mesh-service';
import { addMeshSidecar } from './sidecar';

/**
 * MeshGatewayProps: the gateway's spec (kind "gateway": its listeners and routes, fields as the
 * management API takes them) and where its fleet runs.
 */
export interface MeshGatewayProps {
  readonly controlPlane: ControlPlane;
  readonly cluster: ecs.ICluster;
  /** The gateway's name in the mesh (a DNS label): its identity, `spiffe://<mesh>/service/<name>`. */
  readonly name: string;
  readonly listeners: readonly GatewayListener[];
  readonly routes: readonly GatewayRoute[];
  /** Extra spec fields (mtls, drainSeconds, accessLog, ...). @default - none */
  readonly spec?: Omit<MeshServiceProps, 'controlPlane' | 'name' | 'kind' | 'listeners' | 'routes' | 'inboundPort' | 'appPort' | 'protocol'>;
  /** How many Envoy tasks. @default 2 */
  readonly desiredCount?: number;
  /** @default 512 */
  readonly cpu?: number;
  /** @default 1024 */
  readonly memoryLimitMiB?: number;
  /** What fronts the fleet: an NLB passing TCP through, or an ALB terminating TLS (gateway-load-balancer.ts). @default { type: 'nlb' } */
  readonly loadBalancer?: GatewayLoadBalancerProps;
  /** A load balancer reachable from the internet, or only inside the VPC. @default true */
  readonly internetFacing?: boolean;
  /** The subnets of the Envoy tasks. @default - the cluster VPC's private subnets */
  readonly taskSubnets?: ec2.SubnetSelection;
  /**
   * The certificate secrets of TLS listeners, by port, when one is encrypted with a customer
   * managed KMS key: import it with `Secret.fromSecretAttributes(this, id, { secretCompleteArn,
   * encryptionKey })` so the control plane is granted kms:Decrypt on that key too.
   * @default - imported from the listeners' ARNs (encrypted with the aws/secretsmanager key)
   */
  readonly certificateSecrets?: Readonly<Record<number, secretsmanager.ISecret>>;
}

/**
 * MeshGateway runs an ingress gateway: a MeshService of kind "gateway", a Fargate service of
 * Envoy tasks (nodes of that service, polling the control plane like any sidecar), and a load
 * balancer: by default a Network Load Balancer with one TCP listener per gateway listener, or
 * an ALB that terminates TLS with an ACM certificate (`loadBalancer`). The NLB passes TCP
 * through, so Envoy terminates TLS itself with the operator's certificate (from Secrets
 * Manager, served to it over SDS) and the certificate's key never leaves the mesh's secret
 * store; it also keeps HTTP/2 and gRPC end to end. Each listener's target group health-checks
 * Envoy's port over TCP.
 *
 * The Secrets Manager secrets of TLS listeners are granted for reading to the control plane's
 * functions that copy them (ControlPlane.grantGatewayCertificateRead): the certificate is
 * checked and copied into the mesh's secret store (its key sealed like service keys) when the
 * gateway is declared, copied again by the renewal function when the secret rotates, and served
 * over SDS to the gateway's nodes (docs/rendering.md, "Gateway certificates").
 */
export class MeshGateway extends Construct {
  public readonly service: MeshService;
  public readonly taskDefinition: ecs.FargateTaskDefinition;
  public readonly envoy: ecs.ContainerDefinition;
  public readonly fargateService: ecs.FargateService;
  /** The NLB (the default) or the ALB (`loadBalancer: { type: 'alb', ... }`). */
  public readonly loadBalancer: elbv2.NetworkLoadBalancer | elbv2.ApplicationLoadBalancer;
  public readonly securityGroup: ec2.SecurityGroup;
  /** The operator's certificates of the TLS listeners, by port. */
  public readonly certificateSecrets: ReadonlyMap<number, secretsmanager.ISecret>;

  constructor(scope: Construct, id: string, props: MeshGatewayProps) {
    super(scope, id);
    const { controlPlane, cluster, listeners } = props;
    if (listeners.length === 0) throw new Error(`MeshGateway "${props.name}": listeners must name at least one port`);
    const first = listeners[0]!.port;
    this.service = new MeshService(this, 'Service', {
      ...props.spec,
      controlPlane,
      name: props.name,
      kind: 'gateway',
      listeners: [...listeners],
      routes: [...props.routes],
      inboundPort: first,
      appPort: first,
      protocol: 'http',
    });

    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: props.cpu ?? 512, memoryLimitMiB: props.memoryLimitMiB ?? 1024 });
    this.envoy = addMeshSidecar(this.taskDefinition, { controlPlane, service: this.service, memoryReservationMiB: 256 });
    for (const l of listeners.slice(1)) this.envoy.addPortMappings({ containerPort: l.port, protocol: ecs.Protocol.TCP, name: `gateway-${l.port}` });

    const vpc = cluster.vpc;
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', { vpc, description: `Envoy tasks of mesh gateway ${props.name}` });

    this.fargateService = new ecs.FargateService(this, 'Fleet', {
      cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount ?? 2,
      securityGroups: [this.securityGroup],
      vpcSubnets: props.taskSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      serviceName: props.name,
      minHealthyPercent: 100,
    });

    this.loadBalancer = gatewayLoadBalancer(
      this,
      {
        name: props.name,
        vpc,
        listeners,
        service: this.fargateService,
        envoy: this.envoy,
        securityGroup: this.securityGroup,
        internetFacing: props.internetFacing ?? true,
        drainSeconds: this.service.drainSeconds ?? 30,
      },
      props.loadBalancer,
    );

    const secrets = new Map<number, secretsmanager.ISecret>();
    for (const l of listeners) {
      if (!l.tls) continue;
      const given = props.certificateSecrets?.[l.port];
      if (given && given.secretArn !== l.tls.certificateSecretArn) {
        throw new Error(`MeshGateway "${props.name}": certificateSecrets[${l.port}] is not the secret listener ${l.port} names (${l.tls.certificateSecretArn})`);
      }
      const secret = given ?? secretsmanager.Secret.fromSecretCompleteArn(this, `Certificate${l.port}`, l.tls.certificateSecretArn);
      controlPlane.grantGatewayCertificateRead(secret);
      secrets.set(l.port, secret);
    }
    this.certificateSecrets = secrets;
  }
}
