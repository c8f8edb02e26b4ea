import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ControlPlane } from '../../infra/control-plane';
import { MeshService } from '../../infra/mesh-service';
import { addMeshSidecar, addMeshUserData } from '../../infra/sidecar';
import { authorizeNode } from '../../shared/xds/authorization';
import { deployedSpecs, meshNodes, sessionArnOf } from './support/deploy-time';
import { newUnbundledStack } from './support/synth';
import { docSnippet, runDocSnippet } from './support/doc-snippet';

/**
 * synthDocumentedSnippet runs the snippet as written inside a stack that has what it refers to
 * (a cluster, a Fargate task definition with its app container, a launch template with a role
 * and user data, an Auto Scaling group), and returns the synthesized template.
 */
function synthDocumentedSnippet(): { readonly [key: string]: unknown } {
  const stack = newUnbundledStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const ordersTaskDefinition = new ecs.FargateTaskDefinition(stack, 'OrdersTask');
  const app = ordersTaskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable') });
  const paymentsLaunchTemplate = new ec2.LaunchTemplate(stack, 'PaymentsTemplate', {
    machineImage: ec2.MachineImage.latestAmazonLinux2023(),
    instanceType: new ec2.InstanceType('t4g.small'),
    userData: ec2.UserData.forLinux(),
    role: new iam.Role(stack, 'PaymentsRole', { assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com') }),
  });
  const paymentsGroup = new autoscaling.AutoScalingGroup(stack, 'PaymentsGroup', { vpc, launchTemplate: paymentsLaunchTemplate });
  runDocSnippet(docSnippet('deploy.md', '## Using the constructs in your stacks'), stack, {
    ControlPlane,
    MeshService,
    addMeshSidecar,
    addMeshUserData,
    cluster,
    ordersTaskDefinition,
    app,
    paymentsLaunchTemplate,
    paymentsGroup,
  });
  return Template.fromStack(stack).toJSON();
}

describe('the documented construct snippet, synthesized as written', () => {
  const template = synthDocumentedSnippet();

  it('gives each service the role of its nodes: a node is authorized for its own service and refused for the other', () => {
    const specs = deployedSpecs(template);
    const nodes = meshNodes(template);
    expect(nodes.map((n) => n.service).sort()).toEqual(['orders', 'payments']);
    const decisions = nodes.flatMap((node) =>
      [...specs].map(([service, spec]) => {
        try {
          authorizeNode('iam', { kind: 'iam', arn: sessionArnOf(node.roleLogicalId, 'node-1') }, service, spec.identity?.iamRoleArns ?? []);
          return `${node.service} node → ${service}: allowed`;
        } catch (err) {
          return `${node.service} node → ${service}: ${(err as { kind?: string }).kind}`;
        }
      }),
    );
    expect(decisions.sort()).toEqual([
      'orders node → orders: allowed',
      'orders node → payments: refused',
      'payments node → orders: refused',
      'payments node → payments: allowed',
    ]);
  });
});

describe('MeshService identity', () => {
  const spec = { name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http' } as const;

  it('fails synth, naming the fix, when no role is bound to a service', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    new MeshService(stack, 'Orders', { controlPlane, ...spec });
    expect(() => Template.fromStack(stack)).toThrow(
      'MeshService "orders": no IAM role is bound to it, so every poll of its nodes would be refused (403)',
    );
  });

  it('binds a role once, however often its nodes are added', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    const orders = new MeshService(stack, 'Orders', { controlPlane, ...spec });
    const task = new ecs.FargateTaskDefinition(stack, 'Task');
    const app = task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('app') });
    addMeshSidecar(task, { controlPlane, service: orders, appContainers: [app] });
    orders.bindNodeRole(task.taskRole);
    expect(orders.nodeRoleArns).toEqual([task.taskRole.roleArn]);
  });
});

describe('addMeshSidecar', () => {
  it('refuses a bridge-mode task definition, whose containers share no localhost', () => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    const orders = new MeshService(stack, 'Orders', { controlPlane, name: 'orders', inboundPort: 15000, appPort: 8080, protocol: 'http' });
    const task = new ecs.Ec2TaskDefinition(stack, 'Task', { networkMode: ecs.NetworkMode.BRIDGE });
    expect(() => addMeshSidecar(task, { controlPlane, service: orders })).toThrow(
      'addMeshSidecar: task definition Test/Task uses network mode "bridge", where containers do not share localhost',
    );
  });
});

describe('MeshService reachability', () => {
  const identity = { iamRoleArns: ['arn:aws:iam::111122223333:role/web'] };
  const base = { inboundPort: 15000, appPort: 8080, protocol: 'http', identity } as const;
  const warningsOf = (inbound?: { external: { port: number } }) => {
    const stack = newUnbundledStack();
    const controlPlane = new ControlPlane(stack, 'ControlPlane');
    new MeshService(stack, 'Web', { controlPlane, ...base, name: 'web', ...(inbound ? { inbound } : {}) });
    new MeshService(stack, 'Api', { controlPlane, ...base, name: 'api' });
    new MeshService(stack, 'Front', { controlPlane, ...base, name: 'front', dependencies: [{ service: 'api', localPort: 9001 }] });
    return Annotations.fromStack(stack)
      .findWarning('*', Match.stringLikeRegexp('MeshService'))
      .map((w) => String(w.entry.data));
  };

  it('warns at synth about a service nobody calls and no load balancer can reach', () => {
    const warnings = warningsOf();
    expect(warnings.filter((w) => w.includes('"web"'))).toEqual([
      expect.stringContaining('MeshService "web": no service in this control plane calls it and it has no external listener'),
    ]);
    expect(warnings.some((w) => w.includes('"api"'))).toBe(false);
  });

  it('says nothing once the service has an external listener', () => {
    expect(warningsOf({ external: { port: 8081 } }).some((w) => w.includes('"web"'))).toBe(false);
  });
});
