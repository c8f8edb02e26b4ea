import { CfnElement, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { ControlPlane } from '../../infra/control-plane';
import { MeshGateway } from '../../infra/gateway';
import { MeshService } from '../../infra/mesh-service';
import { newUnbundledStack } from './support/synth';

const secretArn = 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:edge-tls-AbCdEf';

function synthGateway() {
  const stack = newUnbundledStack();
  const controlPlane = new ControlPlane(stack, 'ControlPlane');
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const web = new MeshService(stack, 'Web', { controlPlane, name: 'web', inboundPort: 15000, appPort: 8080, protocol: 'http', identity: { iamRoleArns: ['arn:aws:iam::111122223333:role/web'] } });
  const gateway = new MeshGateway(stack, 'Edge', {
    controlPlane,
    cluster,
    name: 'edge',
    listeners: [
      { port: 443, protocol: 'http', tls: { certificateSecretArn: secretArn } },
      { port: 80, protocol: 'http' },
    ],
    routes: [{ pathPrefix: '/', service: 'web' }],
  });
  return { stack, controlPlane, web, gateway, template: Template.fromStack(stack) };
}

describe('MeshGateway', () => {
  const { controlPlane: cp, web, gateway, template } = synthGateway();

  it('declares a gateway MeshService whose spec carries the listeners and routes', () => {
    expect(gateway.service.spec).toMatchObject({ name: 'edge', kind: 'gateway', listeners: [{ port: 443 }, { port: 80 }], routes: [{ pathPrefix: '/', service: 'web' }] });
    expect(gateway.service.resource.node.dependencies).toContain(web.resource);
  });

  it('puts an internet-facing NLB in front, one TCP listener per gateway port, passing TLS through to Envoy', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Type: 'network', Scheme: 'internet-facing' });
    for (const port of [443, 80]) {
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: port, Protocol: 'TCP' });
      template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { Port: port, Protocol: 'TCP', TargetType: 'ip', HealthCheckProtocol: 'TCP' });
    }
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 2);
  });

  it('runs Envoy on Fargate with every listener port mapped, and no payload container', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({ Name: 'envoy', PortMappings: [Match.objectLike({ ContainerPort: 443 }), Match.objectLike({ ContainerPort: 80 })] })],
    });
    template.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'edge', DesiredCount: 2, LaunchType: 'FARGATE' });
  });

  it('admits the listener ports from inside the VPC only (the NLB’s nodes)', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroup', {
      SecurityGroupIngress: Match.arrayWith([Match.objectLike({ FromPort: 443, ToPort: 443, CidrIp: Match.anyValue() })]),
    });
  });

  it('grants the functions that copy certificates (management API, MeshService handler, renewal) read access to the certificate secret alone', () => {
    expect(gateway.certificateSecrets.size).toBe(1);
    const roleIds = [cp.adminFunction, cp.catalogFunction, cp.renewalFunction!].map((fn) => stackOf(gateway).getLogicalId(fn.role!.node.defaultChild as CfnElement)).sort();
    expect(secretReaders(template)).toEqual(roleIds.map((role) => ({ role, resources: [secretArn] })));
  });

  it('grants kms:Decrypt through Secrets Manager when the secret comes with its customer managed key', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 1, restrictDefaultSecurityGroup: false }) });
    const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const secret = secretsmanager.Secret.fromSecretAttributes(stack, 'Tls', { secretCompleteArn: secretArn, encryptionKey: kms.Key.fromKeyArn(stack, 'TlsKey', keyArn) });
    new MeshGateway(stack, 'Edge', {
      controlPlane,
      cluster,
      name: 'edge',
      listeners: [{ port: 443, protocol: 'http', tls: { certificateSecretArn: secretArn } }],
      routes: [{ pathPrefix: '/', service: 'web' }],
      certificateSecrets: { 443: secret },
    });
    Template.fromStack(stack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'kms:Decrypt', Resource: keyArn, Condition: { StringEquals: { 'kms:ViaService': Match.anyValue() } } }),
        ]),
      },
    });
    const other = secretsmanager.Secret.fromSecretCompleteArn(stack, 'Other', 'arn:aws:secretsmanager:eu-west-1:111122223333:secret:other-AbCdEf');
    expect(
      () =>
        new MeshGateway(stack, 'Edge2', {
          controlPlane,
          cluster,
          name: 'edge2',
          listeners: [{ port: 443, protocol: 'http', tls: { certificateSecretArn: secretArn } }],
          routes: [{ pathPrefix: '/', service: 'web' }],
          certificateSecrets: { 443: other },
        }),
    ).toThrow(/certificateSecrets\[443\] is not the secret listener 443 names/);
  });

  it('refuses a gateway without listeners at synth', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 }) });
    expect(() => new MeshGateway(stack, 'Edge', { controlPlane, cluster, name: 'edge', listeners: [], routes: [{ pathPrefix: '/', service: 'web' }] })).toThrow(/listeners must name at least one port/);
  });
});

const stackOf = (gateway: MeshGateway) => Stack.of(gateway);

/** secretReaders lists, by role, the resources each IAM policy lets read a secret's value. */
function secretReaders(template: Template): { role: string; resources: string[] }[] {
  const readers: { role: string; resources: string[] }[] = [];
  for (const policy of Object.values(template.findResources('AWS::IAM::Policy')) as { Properties: { PolicyDocument: { Statement: { Action: unknown; Resource: unknown }[] }; Roles: { Ref: string }[] } }[]) {
    const resources = policy.Properties.PolicyDocument.Statement.filter((st) => [st.Action].flat().includes('secretsmanager:GetSecretValue')).flatMap((st) => [st.Resource].flat() as string[]);
    if (resources.length > 0) for (const role of policy.Properties.Roles) readers.push({ role: role.Ref, resources });
  }
  return readers.sort((a, b) => (a.role < b.role ? -1 : 1));
}
