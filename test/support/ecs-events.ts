import { randomUUID } from 'node:crypto';

/**
 * Builders of ECS Task State Change events in the shape AWS documents ("Amazon ECS events"):
 * the EventBridge envelope around a task detail with attachments, containers and `version`.
 */
export interface EcsTaskEventOptions {
  readonly taskId?: string;
  readonly ecsService: string;
  readonly cluster?: string;
  readonly family?: string;
  readonly revision?: number;
  readonly lastStatus?: string;
  readonly desiredStatus?: string;
  readonly healthStatus?: string;
  readonly version?: number;
  readonly ip?: string;
  readonly zone?: string;
  readonly time?: string;
  readonly launchType?: 'FARGATE' | 'EC2';
  readonly eventId?: string;
}

export function ecsTaskArn(taskId: string, cluster = 'prod'): string {
  return `arn:aws:ecs:us-east-1:111122223333:task/${cluster}/${taskId}`;
}

export function ecsTaskEvent(o: EcsTaskEventOptions): Record<string, unknown> {
  const cluster = o.cluster ?? 'prod';
  const taskId = o.taskId ?? randomUUID().replace(/-/g, '');
  const family = o.family ?? o.ecsService;
  const revision = o.revision ?? 1;
  const lastStatus = o.lastStatus ?? 'RUNNING';
  const ip = o.ip ?? '10.0.1.10';
  const zone = o.zone ?? 'us-east-1a';
  const time = o.time ?? new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    version: '0',
    id: o.eventId ?? randomUUID(),
    'detail-type': 'ECS Task State Change',
    source: 'aws.ecs',
    account: '111122223333',
    time,
    region: 'us-east-1',
    resources: [ecsTaskArn(taskId, cluster)],
    detail: {
      attachments: [
        {
          id: randomUUID(),
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
      availabilityZone: zone,
      clusterArn: `arn:aws:ecs:us-east-1:111122223333:cluster/${cluster}`,
      containers: [
        {
          containerArn: `arn:aws:ecs:us-east-1:111122223333:container/${cluster}/${taskId}/${randomUUID()}`,
          lastStatus,
          name: 'app',
          image: '111122223333.dkr.ecr.us-east-1.amazonaws.com/app:latest',
          taskArn: ecsTaskArn(taskId, cluster),
          networkInterfaces: [{ attachmentId: randomUUID(), privateIpv4Address: ip }],
          cpu: '0',
        },
        {
          containerArn: `arn:aws:ecs:us-east-1:111122223333:container/${cluster}/${taskId}/${randomUUID()}`,
          lastStatus,
          name: 'envoy',
          image: 'envoyproxy/envoy:v1.36.2',
          taskArn: ecsTaskArn(taskId, cluster),
          networkInterfaces: [{ attachmentId: randomUUID(), privateIpv4Address: ip }],
          ...(o.healthStatus ? { healthStatus: o.healthStatus } : {}),
          cpu: '0',
        },
      ],
      createdAt: time,
      launchType: o.launchType ?? 'FARGATE',
      cpu: '256',
      memory: '512',
      desiredStatus: o.desiredStatus ?? (lastStatus === 'STOPPED' ? 'STOPPED' : 'RUNNING'),
      group: `service:${o.ecsService}`,
      lastStatus,
      ...(o.healthStatus ? { healthStatus: o.healthStatus } : {}),
      overrides: { containerOverrides: [{ name: 'app' }, { name: 'envoy' }] },
      connectivity: 'CONNECTED',
      platformVersion: '1.4.0',
      startedBy: 'ecs-svc/1234567890123456789',
      taskArn: ecsTaskArn(taskId, cluster),
      taskDefinitionArn: `arn:aws:ecs:us-east-1:111122223333:task-definition/${family}:${revision}`,
      updatedAt: time,
      version: o.version ?? 2,
    },
  };
}
