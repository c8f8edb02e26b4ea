import { Match, Template } from 'aws-cdk-lib/assertions';
import { spawnSync } from 'node:child_process';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Stack } from 'aws-cdk-lib';
import { ControlPlane } from '../../infra/control-plane';
import { MeshDns } from '../../infra/mesh-dns';
import { MeshService } from '../../infra/mesh-service';
import { addMeshSidecar, addMeshUserData, meshRedirectScript } from '../../infra/sidecar';
import { redirectSettings } from '../../infra/sidecar/transparent';
import { renderJoin } from './support/deploy-time';
import { newUnbundledStack, resourcesOf } from './support/synth';

const identity = { iamRoleArns: ['arn:aws:iam::111122223333:role/nodes'] };

/** A stack with a control plane, a VPC, and `payments` (called) and `orders` (transparent, calling it). */
function meshStack(options: { serviceDomain?: string; ordersInterception?: Record<string, unknown> } = {}) {
  const stack = newUnbundledStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 0, restrictDefaultSecurityGroup: false });
  const controlPlane = new ControlPlane(stack, 'ControlPlane', options.serviceDomain ? { serviceDomain: options.serviceDomain } : {});
  const payments = new MeshService(stack, 'Payments', {
    controlPlane,
    name: 'payments',
    inboundPort: 15000,
    appPort: 8080,
    protocol: 'http',
    interception: { hostnames: ['payments.prod.local'] },
    identity,
  });
  const orders = new MeshService(stack, 'Orders', {
    controlPlane,
    name: 'orders',
    inboundPort: 15000,
    appPort: 80,
    protocol: 'http',
    dependencies: [{ service: 'payments', localPort: 9001 }],
    interception: options.ordersInterception ?? { mode: 'transparent', egressIgnoredPorts: [5432] },
    identity,
  });
  return { stack, vpc, controlPlane, payments, orders };
}

function ecsTask(stack: Stack, networkMode?: ecs.NetworkMode) {
  const task = networkMode ? new ecs.Ec2TaskDefinition(stack, 'Task', { networkMode }) : new ecs.FargateTaskDefinition(stack, 'Task');
  const app = task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable'), memoryLimitMiB: 256 });
  return { task, app };
}

describe('transparent mode on ECS', () => {
  it('sets the task’s proxy configuration: Envoy’s UID ignored, the metadata endpoints and ignored ports left alone', () => {
    const { stack, controlPlane, orders } = meshStack();
    const { task, app } = ecsTask(stack);
    addMeshSidecar(task, { controlPlane, service: orders, appContainers: [app] });
    const [definition] = Object.values(resourcesOf(Template.fromStack(stack), 'AWS::ECS::TaskDefinition'));
    const props = definition!.Properties!;
    expect(props.ProxyConfiguration).toEqual({
      Type: 'APPMESH',
      ContainerName: 'envoy',
      ProxyConfigurationProperties: [
        { Name: 'IgnoredUID', Value: '101' },
        { Name: 'AppPorts', Value: '80' },
        { Name: 'ProxyIngressPort', Value: '15000' },
        { Name: 'ProxyEgressPort', Value: '15001' },
        { Name: 'EgressIgnoredIPs', Value: '169.254.169.254,169.254.170.2' },
        { Name: 'EgressIgnoredPorts', Value: '5432' },
      ],
    });
    // The ignored UID is the one the sidecar's entrypoint runs Envoy as.
    const envoy = (props.ContainerDefinitions as { Name: string; Environment: { Name: string; Value: string }[] }[]).find((c) => c.Name === 'envoy')!;
    expect(envoy.Environment.find((e) => e.Name === 'ENVOY_UID')!.Value).toBe('101');
  });

  it('sets none for a service in localhost mode', () => {
    const { stack, controlPlane, payments } = meshStack();
    const { task, app } = ecsTask(stack);
    addMeshSidecar(task, { controlPlane, service: payments, appContainers: [app] });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', { ProxyConfiguration: Match.absent() });
  });

  it('refuses host network mode, where ECS redirects nothing, and a task definition with a proxy configuration of its own', () => {
    const host = meshStack();
    const { task } = ecsTask(host.stack, ecs.NetworkMode.HOST);
    expect(() => addMeshSidecar(task, { controlPlane: host.controlPlane, service: host.orders })).toThrow(
      'addMeshSidecar: service "orders" is transparent, and ECS redirects traffic only in awsvpc mode; task definition Test/Task uses "host"',
    );
    const own = meshStack();
    const withProxy = new ecs.FargateTaskDefinition(own.stack, 'Task', {
      proxyConfiguration: ecs.ProxyConfigurations.appMeshProxyConfiguration({
        containerName: 'envoy',
        properties: { ignoredUID: 1337, appPorts: [80], proxyEgressPort: 15001, proxyIngressPort: 15000 },
      }),
    });
    withProxy.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
    expect(() => addMeshSidecar(withProxy, { controlPlane: own.controlPlane, service: own.orders })).toThrow(
      'addMeshSidecar: task definition Test/Task already has a proxy configuration; service "orders" is transparent and sets its own',
    );
  });
});

describe('transparent mode on EC2', () => {
  function userDataOf(envoyBinary?: string) {
    const { stack, controlPlane, orders } = meshStack();
    const template = new ec2.LaunchTemplate(stack, 'Template', {
      machineImage: ec2.MachineImage.latestAmazonLinux2023(),
      userData: ec2.UserData.forLinux(),
      role: new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }),
    });
    addMeshUserData(template, { controlPlane, service: orders, ...(envoyBinary ? { envoyBinary } : {}) });
    const json = Template.fromStack(stack).toJSON();
    const [launchTemplate] = Object.values(json.Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>).filter(
      (r) => r.Type === 'AWS::EC2::LaunchTemplate',
    );
    const data = (launchTemplate!.Properties.LaunchTemplateData as { UserData: { 'Fn::Base64': unknown } }).UserData['Fn::Base64'];
    return { userData: renderJoin(data), orders };
  }

  it('installs the redirection script the network namespace test runs, under a unit started after Envoy that removes the rules when stopped, but not at shutdown', () => {
    const { userData, orders } = userDataOf();
    expect(userData).toContain(`#!/bin/bash\n${meshRedirectScript(redirectSettings(orders.spec))}\nMESH_REDIRECT_EOF`);
    expect(userData).toContain(
      [
        'Wants=envoy.service network-online.target',
        'After=envoy.service network-online.target',
        '[Service]',
        'Type=oneshot',
        'RemainAfterExit=yes',
        'ExecStart=/usr/local/sbin/mesh-redirect install',
        `ExecStop=/bin/bash -c 'if [ "$$(systemctl is-system-running)" = stopping ]; then exit 0; fi; exec /usr/local/sbin/mesh-redirect remove'`,
      ].join('\n'),
    );
    expect(userData.indexOf('systemctl enable --now mesh-redirect.service')).toBeGreaterThan(userData.indexOf('systemctl enable --now envoy.service'));
    expect(userData).not.toContain('envoy.service.d');
    const syntax = spawnSync('bash', ['-n'], { input: userData, encoding: 'utf8' });
    expect([syntax.status, syntax.stderr]).toEqual([0, '']);
  });

  it('runs a host’s Envoy binary as the UID the rules leave alone', () => {
    const { userData } = userDataOf('/usr/local/bin/envoy');
    expect(userData).toContain('/etc/systemd/system/envoy.service.d/mesh-transparent.conf');
    expect(userData).toContain('[Service]\nUser=101\nGroup=101');
    expect(userData.indexOf('User=101')).toBeLessThan(userData.indexOf('systemctl enable --now envoy.service'));
  });
});

describe('MeshDns', () => {
  it('serves every service’s names from a private hosted zone of the service domain, all at one address', () => {
    const { stack, vpc, controlPlane, payments, orders } = meshStack({ serviceDomain: 'svc.example.internal' });
    const legacy = new route53.PrivateHostedZone(stack, 'Legacy', { zoneName: 'prod.local', vpc });
    new MeshDns(stack, 'Dns', { controlPlane, vpc, services: [payments, orders], zones: [legacy] });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Route53::HostedZone', { Name: 'svc.example.internal.', VPCs: [Match.objectLike({ VPCId: Match.anyValue() })] });
    const records = Object.values(resourcesOf(template, 'AWS::Route53::RecordSet')).map((r) => [r.Properties!.Name, r.Properties!.Type, r.Properties!.ResourceRecords, r.Properties!.TTL]);
    expect(records.sort()).toEqual([
      ['orders.svc.example.internal.', 'A', ['240.240.0.1'], '300'],
      ['payments.prod.local.', 'A', ['240.240.0.1'], '300'],
      ['payments.svc.example.internal.', 'A', ['240.240.0.1'], '300'],
    ]);
    // The control plane renders the same domain the zone serves.
    expect(controlPlane.renderSettings.serviceDomain).toBe('svc.example.internal');
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MESH_SERVICE_DOMAIN: 'svc.example.internal' }) } });
  });

  it('refuses a listed name outside every zone it has, and a name two services claim', () => {
    const outside = meshStack();
    expect(() => new MeshDns(outside.stack, 'Dns', { controlPlane: outside.controlPlane, vpc: outside.vpc, services: [outside.payments] })).toThrow(
      'MeshDns: service "payments" lists payments.prod.local, which is outside mesh.internal and every zone given; pass its zone in zones',
    );
    const twice = meshStack();
    const dns = new MeshDns(twice.stack, 'Dns', { controlPlane: twice.controlPlane, vpc: twice.vpc, address: '240.240.0.9' });
    const impostor = new MeshService(twice.stack, 'Impostor', {
      controlPlane: twice.controlPlane,
      name: 'impostor',
      inboundPort: 15000,
      appPort: 80,
      protocol: 'http',
      interception: { hostnames: ['orders.mesh.internal'] },
      identity,
    });
    dns.addService(twice.orders);
    expect(() => dns.addService(impostor)).toThrow('MeshDns: orders.mesh.internal is already the name of service "orders"; service "impostor" cannot have it too');
  });
});
