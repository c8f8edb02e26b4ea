import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient, CompleteLifecycleActionCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, Instance } from '@aws-sdk/client-ec2';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ServiceSpec, ServiceSpecInput } from '../../../shared/model/spec';
import { parseServiceSpec } from '../../../shared/model/parse-spec';
import { MeshStore } from '../../../shared/store/mesh-store';

/**
 * Builders of the AWS lifecycle events, in the shapes AWS documents ("Amazon ECS events",
 * "EC2 instance state change events", "Auto Scaling lifecycle hooks" in the EventBridge
 * docs), and of the DescribeInstances answers that go with them. Every field AWS sends that
 * we do not use is there too, so tests see what production sees.
 */

export const account = '111122223333';
export const region = 'us-east-1';

export function spec(input: Partial<ServiceSpecInput> & { name: string }): ServiceSpec {
  return parseServiceSpec({ inboundPort: 15000, appPort: 8080, protocol: 'http', ...input });
}

/** declare stores specs as the catalog does, without rendering snapshots (not what these tests are about). */
export async function declare(store: MeshStore, ...specs: ServiceSpec[]): Promise<void> {
  for (const s of specs) await store.putService(s, await store.getService(s.name));
}

export const taskArn = (taskId: string, cluster = 'prod') => `arn:aws:ecs:${region}:${account}:task/${cluster}/${taskId}`;
export const clusterArn = (cluster = 'prod') => `arn:aws:ecs:${region}:${account}:cluster/${cluster}`;
export const containerInstanceArn = (id: string, cluster = 'prod') =>
  `arn:aws:ecs:${region}:${account}:container-instance/${cluster}/${id}`;

export interface TaskOptions {
  readonly taskId: string;
  readonly ecsService: string;
  readonly version: number;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly healthStatus?: string;
  readonly ip?: string;
  readonly zone?: string;
  readonly family?: string;
  readonly revision?: number;
  readonly cluster?: string;
  readonly capacityProviderName?: string;
  /** bridge/host mode on an EC2 container instance: bindings instead of an ENI. */
  readonly bridge?: { containerInstanceId: string; bindings: { containerPort: number; hostPort: number; bindIP?: string }[] };
  readonly group?: string;
}

/** taskDetail is a task as ECS describes it (the event detail and DescribeTasks share this shape). */
export function taskDetail(o: TaskOptions): Record<string, unknown> {
  const cluster = o.cluster ?? 'prod';
  const arn = taskArn(o.taskId, cluster);
  const lastStatus = o.lastStatus ?? 'RUNNING';
  const ip = o.ip ?? '10.0.1.10';
  const family = o.family ?? o.ecsService;
  const time = '2026-11-25T10:00:00.000Z';
  const container = (name: string) => ({
    containerArn: `arn:aws:ecs:${region}:${account}:container/${cluster}/${o.taskId}/${name}`,
    lastStatus,
    name,
    image: name === 'envoy' ? 'envoyproxy/envoy:v1.36.2' : `${account}.dkr.ecr.${region}.amazonaws.com/${family}:latest`,
    taskArn: arn,
    ...(o.bridge
      ? { networkBindings: name === 'envoy' ? o.bridge.bindings.map((b) => ({ bindIP: '0.0.0.0', protocol: 'tcp', ...b })) : [] }
      : { networkInterfaces: [{ attachmentId: `att-${o.taskId}`, privateIpv4Address: ip }] }),
    ...(o.healthStatus ? { healthStatus: o.healthStatus } : {}),
    cpu: '0',
  });
  return {
    ...(o.bridge
      ? { attachments: [], containerInstanceArn: containerInstanceArn(o.bridge.containerInstanceId, cluster), launchType: 'EC2' }
      : {
          attachments: [
            {
              id: `att-${o.taskId}`,
              type: 'eni',
              status: lastStatus === 'STOPPED' ? 'DELETED' : 'ATTACHED',
              details: [
                { name: 'subnetId', value: 'subnet-0a1b2c3d' },
                { name: 'networkInterfaceId', value: 'eni-0a1b2c3d4e5f' },
                { name: 'macAddress', value: '0a:1b:2c:3d:4e:5f' },
                { name: 'privateDnsName', value: `ip-${ip.replace(/\./g, '-')}.ec2.internal` },
                { name: 'privateIPv4Address', value: ip },
              ],
            },
          ],
          launchType: 'FARGATE',
        }),
    ...(o.capacityProviderName ? { capacityProviderName: o.capacityProviderName } : {}),
    availabilityZone: o.zone ?? 'us-east-1a',
    clusterArn: clusterArn(cluster),
    containers: [container('app'), container('envoy')],
    createdAt: time,
    cpu: '256',
    memory: '512',
    desiredStatus: o.desiredStatus ?? (lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING'),
    group: o.group ?? `service:${o.ecsService}`,
    lastStatus,
    ...(o.healthStatus ? { healthStatus: o.healthStatus } : {}),
    overrides: { containerOverrides: [{ name: 'app' }, { name: 'envoy' }] },
    connectivity: 'CONNECTED',
    startedBy: 'ecs-svc/1234567890123456789',
    taskArn: arn,
    taskDefinitionArn: `arn:aws:ecs:${region}:${account}:task-definition/${family}:${o.revision ?? 1}`,
    updatedAt: time,
    version: o.version,
  };
}

function envelope(id: string, source: string, detailType: string, time: string, resources: string[], detail: unknown) {
  return { version: '0', id, 'detail-type': detailType, source, account, time, region, resources, detail };
}

export function ecsTaskEvent(o: TaskOptions & { eventId?: string; time?: string }): Record<string, unknown> {
  const detail = taskDetail(o);
  return envelope(
    o.eventId ?? `ecs-${o.taskId}-v${o.version}`,
    'aws.ecs',
    'ECS Task State Change',
    o.time ?? '2026-11-25T10:00:00Z',
    [String(detail.taskArn)],
    detail,
  );
}

export function ec2StateEvent(o: { instanceId: string; state: string; time: string; eventId?: string }): Record<string, unknown> {
  return envelope(
    o.eventId ?? `ec2-${o.instanceId}-${o.state}-${o.time}`,
    'aws.ec2',
    'EC2 Instance State-change Notification',
    o.time,
    [`arn:aws:ec2:${region}:${account}:instance/${o.instanceId}`],
    { 'instance-id': o.instanceId, state: o.state },
  );
}

export function lifecycleActionEvent(o: {
  transition: 'launch' | 'terminate';
  instanceId: string;
  time: string;
  token?: string;
  group?: string;
  hook?: string;
  eventId?: string;
  /** The hook's notification metadata. @default '{"mesh":true}' */
  metadata?: string;
}): Record<string, unknown> {
  const launch = o.transition === 'launch';
  const group = o.group ?? 'orders-asg';
  return envelope(
    o.eventId ?? `asg-${o.transition}-${o.instanceId}`,
    'aws.autoscaling',
    launch ? 'EC2 Instance-launch Lifecycle Action' : 'EC2 Instance-terminate Lifecycle Action',
    o.time,
    [`arn:aws:autoscaling:${region}:${account}:autoScalingGroup:4a2f6b2c-3e7d-4b8c-9f0e-1a2b3c4d5e6f:autoScalingGroupName/${group}`],
    {
      LifecycleActionToken: o.token ?? '87654321-4321-4321-4321-210987654321',
      AutoScalingGroupName: group,
      LifecycleHookName: o.hook ?? (launch ? 'mesh-launch' : 'mesh-drain'),
      EC2InstanceId: o.instanceId,
      LifecycleTransition: launch ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
      NotificationMetadata: o.metadata ?? '{"mesh":true}',
      Origin: launch ? 'EC2' : 'AutoScalingGroup',
      Destination: launch ? 'AutoScalingGroup' : 'EC2',
    },
  );
}

/** ec2Instance is one instance of a DescribeInstances answer. */
export function ec2Instance(o: {
  instanceId: string;
  state?: string;
  ip?: string;
  zone?: string;
  tags?: Record<string, string>;
  instanceType?: string;
}): Instance {
  return {
    InstanceId: o.instanceId,
    InstanceType: (o.instanceType ?? 'm7g.large') as Instance['InstanceType'],
    ImageId: 'ami-0abcdef1234567890',
    State: { Code: 16, Name: (o.state ?? 'running') as NonNullable<Instance['State']>['Name'] },
    ...(o.ip === '' ? {} : { PrivateIpAddress: o.ip ?? '10.0.2.20' }),
    Placement: { AvailabilityZone: o.zone ?? 'us-east-1b', Tenancy: 'default' },
    SubnetId: 'subnet-0a1b2c3d',
    VpcId: 'vpc-0a1b2c3d',
    Tags: Object.entries(o.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
  };
}

/**
 * useLifecycleClients mocks the AWS SDK clients the lifecycle adapters call (EC2, Auto Scaling,
 * SQS) at the SDK boundary, reset before each test; CompleteLifecycleAction and SendMessage
 * succeed unless a test says otherwise.
 */
export function useLifecycleClients() {
  const ec2 = mockClient(EC2Client);
  const autoScaling = mockClient(AutoScalingClient);
  const sqs = mockClient(SQSClient);
  beforeEach(() => {
    ec2.reset();
    autoScaling.reset();
    sqs.reset();
    autoScaling.on(CompleteLifecycleActionCommand).resolves({});
    sqs.on(SendMessageCommand).resolves({ MessageId: 'm-1' });
  });
  return { ec2, autoScaling, sqs };
}
