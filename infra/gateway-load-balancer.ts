import { Duration, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { edgeDefaults } from '../shared/model/defaults';
import { GatewayListener } from '../shared/model/spec-edges';
import { gatewayGrpcHealthPath, gatewayHealthPath } from '../shared/render/gateway-health';

/**
 * GatewayLoadBalancerProps is what fronts a gateway fleet (MeshGatewayProps.loadBalancer): a
 * Network Load Balancer that passes TCP through (the default), or an Application Load Balancer
 * that terminates TLS with an ACM certificate.
 */
export type GatewayLoadBalancerProps = GatewayNlbProps | GatewayAlbProps;

/** GatewayNlbProps: an NLB with one TCP listener per gateway listener; Envoy terminates TLS. */
export interface GatewayNlbProps {
  readonly type: 'nlb';
}

/**
 * GatewayAlbProps: an ALB with one HTTPS listener per gateway listener, on the same port. TLS
 * from clients ends at the ALB with `certificate`; towards Envoy the ALB speaks HTTPS to a
 * gateway listener with `tls` (re-encrypted, the ALB does not check the certificate) and HTTP
 * to one without; HTTP/2 for `http2` listeners, gRPC for `grpc` ones.
 */
export interface GatewayAlbProps {
  readonly type: 'alb';
  /** The ACM certificate the HTTPS listeners present. */
  readonly certificate: acm.ICertificate;
  /** More certificates, picked by SNI. @default - none */
  readonly additionalCertificates?: readonly acm.ICertificate[];
  /** The HTTPS listeners' TLS policy. @default elbv2.SslPolicy.RECOMMENDED_TLS */
  readonly sslPolicy?: elbv2.SslPolicy;
  /** Where the ALB writes its access logs (the bucket must allow the ELB log delivery). @default - none */
  readonly accessLogs?: { readonly bucket: s3.IBucket; readonly prefix?: string };
  /** Who may connect to the listeners. @default - anyone when internet-facing, else the VPC's CIDR */
  readonly allowFrom?: readonly ec2.IPeer[];
}

/** GatewayFleet is what the load balancer sends traffic to: the gateway's Envoy tasks. */
export interface GatewayFleet {
  readonly name: string;
  readonly vpc: ec2.IVpc;
  readonly listeners: readonly GatewayListener[];
  readonly service: ecs.FargateService;
  readonly envoy: ecs.ContainerDefinition;
  /** The tasks' security group: the load balancer is let in on the listener ports (and the health port) only. */
  readonly securityGroup: ec2.SecurityGroup;
  readonly internetFacing: boolean;
  /** The gateway's drain time: deregistration waits as long (at most 300 s). */
  readonly drainSeconds: number;
}

/** gatewayLoadBalancer puts `fleet` behind the load balancer `props` asks for. */
export function gatewayLoadBalancer(scope: Construct, fleet: GatewayFleet, props: GatewayLoadBalancerProps = { type: 'nlb' }): elbv2.NetworkLoadBalancer | elbv2.ApplicationLoadBalancer {
  return props.type === 'alb' ? applicationLoadBalancer(scope, fleet, props) : networkLoadBalancer(scope, fleet);
}

const deregistrationDelay = (fleet: GatewayFleet) => Duration.seconds(Math.min(fleet.drainSeconds, 300));

/**
 * networkLoadBalancer passes TCP through to Envoy, which terminates TLS itself with the
 * operator's certificate, so HTTP/2 and gRPC stay end to end; TCP health checks on each port.
 */
function networkLoadBalancer(scope: Construct, fleet: GatewayFleet): elbv2.NetworkLoadBalancer {
  const { vpc, listeners, securityGroup } = fleet;
  // Targets are registered by IP, so the NLB does not preserve client addresses: traffic arrives from its nodes in the VPC.
  for (const l of listeners) securityGroup.addIngressRule(ec2.Peer.ipv4(vpc.vpcCidrBlock), ec2.Port.tcp(l.port), `gateway listener ${l.port} from the NLB`);
  const nlb = new elbv2.NetworkLoadBalancer(scope, 'LoadBalancer', { vpc, internetFacing: fleet.internetFacing, crossZoneEnabled: true });
  for (const l of listeners) {
    const listener = nlb.addListener(`Port${l.port}`, { port: l.port, protocol: elbv2.Protocol.TCP });
    listener.addTargets(`Port${l.port}Fleet`, {
      port: l.port,
      protocol: elbv2.Protocol.TCP,
      targets: [fleet.service.loadBalancerTarget({ containerName: fleet.envoy.containerName, containerPort: l.port })],
      healthCheck: { protocol: elbv2.Protocol.TCP, interval: Duration.seconds(10) },
      // Envoy drains for the service's drainSeconds after SIGTERM; the NLB stops sending new connections first.
      deregistrationDelay: deregistrationDelay(fleet),
    });
  }
  Validations.of(securityGroup).acknowledge({
    id: 'AwsSolutions-EC23',
    reason: 'Ingress is the VPC CIDR (a deploy-time token cdk-nag cannot read) on the gateway listener ports only: the NLB nodes, which do not keep client addresses',
  });
  Validations.of(nlb).acknowledge({
    id: 'AwsSolutions-ELB2',
    reason: 'A TCP listener writes no access logs (NLB logs TLS listeners only); TLS ends at Envoy, whose access log (accessLog in the spec) records each request',
  });
  return nlb;
}

/** albProtocolVersion is how the ALB speaks to a gateway listener of each protocol. */
const albProtocolVersion: Record<GatewayListener['protocol'], elbv2.ApplicationProtocolVersion> = {
  http: elbv2.ApplicationProtocolVersion.HTTP1,
  http2: elbv2.ApplicationProtocolVersion.HTTP2,
  grpc: elbv2.ApplicationProtocolVersion.GRPC,
};

/**
 * applicationLoadBalancer terminates TLS with an ACM certificate and forwards each HTTPS
 * listener to the gateway listener on the same port. Health checks ask the gateway's health
 * listener (render/gateway-health.ts), which answers only once Envoy has its configuration;
 * the ALB's own security group is the only way in to the tasks.
 */
function applicationLoadBalancer(scope: Construct, fleet: GatewayFleet, props: GatewayAlbProps): elbv2.ApplicationLoadBalancer {
  const { vpc, listeners } = fleet;
  const healthPort = edgeDefaults.gatewayHealthPort;
  const lbSecurityGroup = new ec2.SecurityGroup(scope, 'LoadBalancerSecurityGroup', {
    vpc,
    allowAllOutbound: false,
    description: `ALB of mesh gateway ${fleet.name}`,
  });
  const allowFrom = props.allowFrom ?? [fleet.internetFacing ? ec2.Peer.anyIpv4() : ec2.Peer.ipv4(vpc.vpcCidrBlock)];
  for (const peer of allowFrom) {
    for (const l of listeners) lbSecurityGroup.addIngressRule(peer, ec2.Port.tcp(l.port), `HTTPS ${l.port} to mesh gateway ${fleet.name}`);
  }
  const alb = new elbv2.ApplicationLoadBalancer(scope, 'LoadBalancer', {
    vpc,
    internetFacing: fleet.internetFacing,
    securityGroup: lbSecurityGroup,
    dropInvalidHeaderFields: true,
  });
  if (props.accessLogs) alb.logAccessLogs(props.accessLogs.bucket, props.accessLogs.prefix);
  // The ALB reaches the tasks on the listener ports (added as targets register) and the health port, nothing else.
  alb.connections.allowTo(fleet.securityGroup, ec2.Port.tcp(healthPort), `health checks of mesh gateway ${fleet.name}`);
  for (const l of listeners) {
    const listener = alb.addListener(`Port${l.port}`, {
      port: l.port,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificates: [elbv2.ListenerCertificate.fromCertificateManager(props.certificate)],
      sslPolicy: props.sslPolicy ?? elbv2.SslPolicy.RECOMMENDED_TLS,
      open: false,
    });
    if (props.additionalCertificates && props.additionalCertificates.length > 0) {
      listener.addCertificates(`Port${l.port}More`, props.additionalCertificates.map((c) => elbv2.ListenerCertificate.fromCertificateManager(c)));
    }
    const grpc = l.protocol === 'grpc';
    listener.addTargets(`Port${l.port}Fleet`, {
      port: l.port,
      protocol: l.tls ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP,
      protocolVersion: albProtocolVersion[l.protocol],
      targets: [fleet.service.loadBalancerTarget({ containerName: fleet.envoy.containerName, containerPort: l.port })],
      healthCheck: {
        port: String(healthPort),
        protocol: elbv2.Protocol.HTTP,
        path: grpc ? gatewayGrpcHealthPath : gatewayHealthPath,
        ...(grpc ? { healthyGrpcCodes: '0' } : { healthyHttpCodes: '200' }),
        interval: Duration.seconds(10),
      },
      deregistrationDelay: deregistrationDelay(fleet),
    });
  }
  if (!props.allowFrom) {
    Validations.of(lbSecurityGroup).acknowledge({
      id: 'AwsSolutions-EC23',
      reason: 'An internet-facing gateway takes HTTPS from anyone on its listener ports (pass allowFrom to narrow it); an internal one takes the VPC CIDR, a token cdk-nag cannot read',
    });
  }
  if (!props.accessLogs) {
    Validations.of(alb).acknowledge({
      id: 'AwsSolutions-ELB2',
      reason: 'Access logs need a bucket the operator owns (accessLogs); without one, the gateway Envoys log each request themselves (accessLog in the spec)',
    });
  }
  return alb;
}
