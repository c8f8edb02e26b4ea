import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { ControlPlane } from '../../infra/control-plane';
import { MeshDns } from '../../infra/mesh-dns';
import { MeshService } from '../../infra/mesh-service';
import { addMeshSidecar, addMeshUserData } from '../../infra/sidecar';
import { renderSnapshot, checkSnapshotConsistency } from '../../shared/render/snapshot';
import { defaultRenderSettings } from '../../shared/render/settings';
import { authorizeNode } from '../../shared/xds/authorization';
import { assertConformant } from '../support/envoy-schema';
import { deployedSpecs, meshNodes, sessionArnOf } from './support/deploy-time';
import { docSnippet, runDocSnippet } from './support/doc-snippet';
import { newUnbundledStack } from './support/synth';

/** The color app of docs/migrating-from-app-mesh.md, run as written in a stack with what it refers to. */
function synthColorApp(heading = '## Worked example: the color app') {
  const stack = newUnbundledStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const gatewayTask = new ecs.FargateTaskDefinition(stack, 'GatewayTask');
  const gatewayApp = gatewayTask.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
  const color = (name: string) => {
    const template = new ec2.LaunchTemplate(stack, `${name}Template`, {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      instanceType: new ec2.InstanceType('t4g.small'),
      userData: ec2.UserData.forLinux(),
      role: new iam.Role(stack, `${name}Role`, { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }),
    });
    const group = new autoscaling.AutoScalingGroup(stack, `${name}Group`, { vpc, launchTemplate: template, autoScalingGroupName: `colorteller-${name}` });
    return { template, group };
  };
  const white = color('white');
  const blue = color('blue');
  runDocSnippet(docSnippet('migrating-from-app-mesh.md', heading), stack, {
    ControlPlane,
    MeshService,
    MeshDns,
    route53,
    vpc,
    addMeshSidecar,
    addMeshUserData,
    cluster,
    gatewayTask,
    gatewayApp,
    whiteTemplate: white.template,
    blueTemplate: blue.template,
    whiteGroup: white.group,
    blueGroup: blue.group,
  });
  return { stack, template: Template.fromStack(stack) };
}

describe('the migration guide’s color app, synthesized as written', () => {
  const { stack, template } = synthColorApp();
  const json = template.toJSON();
  const specs = deployedSpecs(json);

  it('declares the gateway and colorteller, each bound to the roles of its nodes and no other', () => {
    expect([...specs.keys()].sort()).toEqual(['colorgateway', 'colorteller']);
    for (const node of meshNodes(json)) {
      for (const [service, spec] of specs) {
        const poll = () => authorizeNode('iam', { kind: 'iam', arn: sessionArnOf(node.roleLogicalId, 'node') }, service, spec.identity?.iamRoleArns ?? []);
        if (service === node.service) expect(poll).not.toThrow();
        else expect(poll).toThrow();
      }
    }
    expect(meshNodes(json).map((n) => n.service).sort()).toEqual(['colorgateway', 'colorteller', 'colorteller']);
  });

  it('renders the gateway’s routes, split and listeners as configuration Envoy accepts', () => {
    const gateway = specs.get('colorgateway')!;
    const rendered = renderSnapshot({ spec: gateway, dependencies: new Map([['colorteller', specs.get('colorteller')!]]), callers: [] }, defaultRenderSettings);
    for (const resource of [...rendered.listeners!, ...rendered.routes!, ...rendered.clusters!]) assertConformant(resource);
    expect(checkSnapshotConsistency(rendered, 'colorgateway')).toEqual([]);
    expect(rendered.listeners!.map((l) => l.name)).toContain('external');
    const route = JSON.stringify(rendered.routes!.find((r) => r.name === 'outbound_colorteller'));
    expect(route).toContain('x-color');
    expect(route).toContain('colorteller-white');
  });

  it('gives no synth warning about an unreachable service', () => {
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('no service in this control plane calls it'))).toEqual([]);
  });
});

describe('the migration guide’s color app in transparent mode, synthesized as written', () => {
  const { template } = synthColorApp('## Moving a service without changing its application');
  const specs = deployedSpecs(template.toJSON());

  it('redirects the gateway task’s traffic through its Envoy, and names colorteller as App Mesh did', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', { ProxyConfiguration: Match.objectLike({ Type: 'APPMESH', ContainerName: 'envoy' }) });
    const records = Object.values(template.findResources('AWS::Route53::RecordSet')).map((r) => (r as { Properties: { Name: string } }).Properties.Name);
    expect(records.sort()).toEqual(['colorgateway.mesh.internal.', 'colorteller.colorapp.local.', 'colorteller.mesh.internal.']);
  });

  it('routes the gateway’s calls to colorteller.colorapp.local:9080 to colorteller, as configuration Envoy accepts', () => {
    const gateway = specs.get('colorgateway')!;
    const rendered = renderSnapshot({ spec: gateway, dependencies: new Map([['colorteller', specs.get('colorteller')!]]), callers: [] }, defaultRenderSettings);
    for (const resource of [...rendered.listeners!, ...rendered.routes!, ...rendered.clusters!]) assertConformant(resource);
    expect(checkSnapshotConsistency(rendered, 'colorgateway')).toEqual([]);
    const route = rendered.routes!.find((r) => r.name === 'transparent_outbound')!;
    const colorteller = (route.virtual_hosts as { name: string; domains: string[] }[]).find((h) => h.name === 'colorteller')!;
    expect(colorteller.domains).toContain('colorteller.colorapp.local:9080');
  });
});
