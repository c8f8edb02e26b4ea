import { App, Stack, Validations } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ControlPlane } from '../../infra/control-plane';
import { MeshGateway } from '../../infra/gateway';
import { GatewayLoadBalancerProps } from '../../infra/gateway-load-balancer';
import { MeshService } from '../../infra/mesh-service';
import { newUnbundledApp, newUnbundledStack, resourcesOf } from './support/synth';

/** ALB access logs need the stack's region (the ELB account that writes them differs per region). */
const env = { account: '111122223333', region: 'eu-west-1' };

const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf';
const certificateArn = 'arn:aws:acm:eu-west-1:111122223333:certificate/11111111-2222-3333-4444-555555555555';
const listeners = [
  { port: 443, protocol: 'http', tls: { certificateSecretArn: secretArn } },
  { port: 8080, protocol: 'http' },
  { port: 9443, protocol: 'grpc' },
] as const;

/** gatewayStack is a control plane, one mesh service and a gateway routed to it, behind `loadBalancer`. */
function gatewayStack(stack: Stack, loadBalancer: (stack: Stack) => GatewayLoadBalancerProps | undefined) {
  const controlPlane = new ControlPlane(stack, 'ControlPlane');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false, flowLogs: { rejected: { trafficType: ec2.FlowLogTrafficType.REJECT } } });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  new MeshService(stack, 'Web', { controlPlane, name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http', identity: { iamRoleArns: ['arn:aws:iam::111122223333:role/web'] } });
  const chosen = loadBalancer(stack);
  return new MeshGateway(stack, 'Edge', {
    controlPlane,
    cluster,
    name: 'edge',
    listeners: listeners.map((l) => ({ ...l })),
    routes: [{ pathPrefix: '/', service: 'web' }],
    ...(chosen ? { loadBalancer: chosen } : {}),
  });
}

const alb = (stack: Stack): GatewayLoadBalancerProps => ({ type: 'alb', certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', certificateArn) });

type Rule = { IpProtocol: string; FromPort: number; ToPort: number; CidrIp?: string; SourceSecurityGroupId?: unknown; DestinationSecurityGroupId?: unknown };

describe('MeshGateway behind an ALB', () => {
  const stack = newUnbundledStack();
  const gateway = gatewayStack(stack, alb);
  const template = Template.fromStack(stack);

  it('terminates TLS at an application load balancer, one HTTPS listener per gateway listener with the ACM certificate', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Type: 'application',
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' }]),
    });
    for (const { port } of listeners) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
        Port: port,
        Protocol: 'HTTPS',
        Certificates: [{ CertificateArn: certificateArn }],
        SslPolicy: 'ELBSecurityPolicy-TLS13-1-2-2021-06',
      });
    }
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', listeners.length);
    expect(gateway.loadBalancer.node.id).toBe('LoadBalancer');
  });

  it('forwards HTTPS to a TLS gateway listener, HTTP to a plaintext one, gRPC as gRPC, health-checking the gateway’s health listener', () => {
    const groups = Object.values(resourcesOf(template, 'AWS::ElasticLoadBalancingV2::TargetGroup')).map((g) => g.Properties!);
    expect(
      groups
        .map((g) => [g.Port, g.Protocol, g.ProtocolVersion, g.TargetType, g.HealthCheckPort, g.HealthCheckProtocol, g.HealthCheckPath, g.Matcher])
        .sort((a, b) => Number(a[0]) - Number(b[0])),
    ).toEqual([
      [443, 'HTTPS', 'HTTP1', 'ip', '15021', 'HTTP', '/healthz/ready', { HttpCode: '200' }],
      [8080, 'HTTP', 'HTTP1', 'ip', '15021', 'HTTP', '/healthz/ready', { HttpCode: '200' }],
      [9443, 'HTTP', 'GRPC', 'ip', '15021', 'HTTP', '/AWS.ALB/healthcheck', { GrpcCode: '0' }],
    ]);
  });

  it('lets clients reach the ALB on the listener ports, and only the ALB reach the tasks, on the listener ports and the health port', () => {
    const albGroup = stack.getLogicalId(gateway.loadBalancer.connections.securityGroups[0]!.node.defaultChild as never);
    const groups = resourcesOf(template, 'AWS::EC2::SecurityGroup');
    const albProps = groups[albGroup]!.Properties as { SecurityGroupIngress: Rule[]; SecurityGroupEgress: Rule[] };
    expect(albProps.SecurityGroupIngress.map((r) => [r.FromPort, r.CidrIp]).sort()).toEqual([[443, '0.0.0.0/0'], [8080, '0.0.0.0/0'], [9443, '0.0.0.0/0']]);
    // No allow-all egress: the ALB's only egress rules are those towards the tasks (below).
    expect(albProps.SecurityGroupEgress).toBeUndefined();

    const taskGroup = stack.getLogicalId(gateway.securityGroup.node.defaultChild as never);
    expect((groups[taskGroup]!.Properties as { SecurityGroupIngress?: Rule[] }).SecurityGroupIngress).toBeUndefined();
    const ingress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupIngress'))
      .map((r) => r.Properties as unknown as Rule)
      .filter((r) => JSON.stringify(r).includes(taskGroup));
    expect(ingress.map((r) => [r.FromPort, r.ToPort, r.SourceSecurityGroupId]).sort()).toEqual(
      [15021, 443, 8080, 9443].map((port) => [port, port, { 'Fn::GetAtt': [albGroup, 'GroupId'] }]).sort(),
    );
    const egress = Object.values(resourcesOf(template, 'AWS::EC2::SecurityGroupEgress')).map((r) => r.Properties as unknown as Rule & { GroupId: unknown });
    expect(egress.map((r) => [r.FromPort, r.GroupId, r.DestinationSecurityGroupId]).sort()).toEqual(
      [15021, 443, 8080, 9443].map((port) => [port, { 'Fn::GetAtt': [albGroup, 'GroupId'] }, { 'Fn::GetAtt': [taskGroup, 'GroupId'] }]).sort(),
    );
  });

  it('writes access logs to the bucket given, and takes clients only from the peers given', () => {
    const other = new Stack(newUnbundledApp(), 'Test', { env });
    gatewayStack(other, (s) => ({
      type: 'alb',
      certificate: acm.Certificate.fromCertificateArn(s, 'Cert', certificateArn),
      additionalCertificates: [acm.Certificate.fromCertificateArn(s, 'Cert2', certificateArn.replace('5555', '6666'))],
      accessLogs: { bucket: s3.Bucket.fromBucketName(s, 'Logs', 'edge-logs'), prefix: 'edge' },
      allowFrom: [ec2.Peer.ipv4('203.0.113.0/24')],
    }));
    const t = Template.fromStack(other);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([
        { Key: 'access_logs.s3.enabled', Value: 'true' },
        { Key: 'access_logs.s3.bucket', Value: 'edge-logs' },
        { Key: 'access_logs.s3.prefix', Value: 'edge' },
      ]),
    });
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerCertificate', listeners.length);
    t.hasResourceProperties('AWS::EC2::SecurityGroup', {
      GroupDescription: 'ALB of mesh gateway edge',
      SecurityGroupIngress: listeners.map((l) => Match.objectLike({ FromPort: l.port, CidrIp: '203.0.113.0/24' })),
    });
  });

  it('keeps the NLB, passing TCP through, when no load balancer is chosen', () => {
    const other = newUnbundledStack();
    gatewayStack(other, () => undefined);
    const t = Template.fromStack(other);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network' });
    t.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', listeners.length);
    for (const { port } of listeners) t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: port, Protocol: 'TCP' });
  });
});

/**
 * cdk-nag's AWS Solutions rules over a gateway behind each load balancer, as on the example
 * app (nag.test.ts): no finding left, and only the acknowledgments the gateway makes itself
 * with its reasons, besides those the control plane makes for its own constructs.
 */
describe.each([
  ['an NLB (the default)', () => undefined, ['AwsSolutions-EC23', 'AwsSolutions-ELB2']],
  ['an ALB', alb, ['AwsSolutions-EC23', 'AwsSolutions-ELB2']],
  [
    'an ALB with access logs and narrowed clients',
    (s: Stack): GatewayLoadBalancerProps => ({
      type: 'alb',
      certificate: acm.Certificate.fromCertificateArn(s, 'Cert', certificateArn),
      accessLogs: { bucket: s3.Bucket.fromBucketName(s, 'Logs', 'edge-logs') },
      allowFrom: [ec2.Peer.ipv4('203.0.113.0/24')],
    }),
    [],
  ],
] as const)('cdk-nag AwsSolutionsChecks on a gateway behind %s', (_name, loadBalancer, loadBalancerRules) => {
  let findings: string[];
  let gatewayRules: string[];
  beforeAll(() => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'nag-gw-'));
    const app = new App({ context: { 'aws:cdk:bundling-stacks': [] }, outdir });
    const stack = new Stack(app, 'Gateway', { env });
    const gateway = gatewayStack(stack, loadBalancer as (s: Stack) => GatewayLoadBalancerProps | undefined);
    // The gateway's task definition is the sidecar's, whose environment is the bootstrap (as in the example app).
    Validations.of(gateway.taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The sidecar environment holds no secret: the Envoy bootstrap (xDS URL, service and cluster names) and ENVOY_UID',
    });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    let failed: unknown;
    try {
      app.synth();
    } catch (err) {
      failed = err;
    }
    const reportFile = path.join(outdir, 'validation-report.json');
    const report = fs.existsSync(reportFile)
      ? (JSON.parse(fs.readFileSync(reportFile, 'utf8')) as { pluginReports: { violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[] }[] })
      : { pluginReports: [] };
    findings = report.pluginReports.flatMap((p) => p.violations.flatMap((v) => v.violatingConstructs.map((c) => `${v.ruleName} at ${c.constructPath}`)));
    if (failed && findings.length === 0) throw failed;
    gatewayRules = app.node
      .findAll()
      .filter((c) => c.node.path.startsWith('Gateway/Edge/') && c.node.path !== gateway.taskDefinition.node.path)
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).flatMap((m) => Object.keys(m.data as Record<string, string>)))
      .map((key) => key.slice('Annotation::'.length))
      .sort();
    fs.rmSync(outdir, { recursive: true, force: true });
  }, 120_000);

  it('reports no unacknowledged finding', () => {
    expect(findings).toEqual([]);
  });

  it('acknowledges on the load balancer only what the choice leaves open', () => {
    expect(gatewayRules).toEqual([...loadBalancerRules]);
  });
});
