import { Match, Template } from 'aws-cdk-lib/assertions';
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
  return { stack, web, gateway, template: Template.fromStack(stack) };
}

describe('MeshGateway', () => {
  const { web, gateway, template } = synthGateway();

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

  it('grants the control plane’s catalog function read access to the certificate secret, and no one else', () => {
    expect(gateway.certificateSecrets.size).toBe(1);
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretArn })]) },
    });
  });

  it('refuses a gateway without listeners at synth', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 }) });
    expect(() => new MeshGateway(stack, 'Edge', { controlPlane, cluster, name: 'edge', listeners: [], routes: [{ pathPrefix: '/', service: 'web' }] })).toThrow(/listeners must name at least one port/);
  });
});
