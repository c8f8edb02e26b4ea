import { z } from 'zod';
import { Endpoint, EndpointChange, EndpointHealth } from '../model/endpoint';
import { ServiceSpec } from '../model/spec';
import { EventEnvelope, LifecycleEventError } from './envelope';
import { toProblems } from '../model/spec';

export const ecsTaskStateChange = { source: 'aws.ecs', detailType: 'ECS Task State Change' } as const;

const taskStatus = z.string(); // PROVISIONING … STOPPED; new ones may appear

const containerSchema = z
  .object({
    name: z.string(),
    lastStatus: z.string().optional(),
    healthStatus: z.string().optional(),
    networkBindings: z
      .array(
        z
          .object({ containerPort: z.number().int().optional(), hostPort: z.number().int().optional(), bindIP: z.string().optional() })
          .loose(),
      )
      .optional(),
    networkInterfaces: z
      .array(z.object({ privateIpv4Address: z.string().optional(), ipv6Address: z.string().optional() }).loose())
      .optional(),
  })
  .loose();

/** The parts of an `ECS Task State Change` detail we use (AWS documents many more). */
export const ecsTaskDetailSchema = z
  .object({
    taskArn: z.string().min(1),
    clusterArn: z.string().min(1),
    group: z.string().optional(),
    taskDefinitionArn: z.string().min(1),
    lastStatus: taskStatus,
    desiredStatus: taskStatus,
    healthStatus: z.string().optional(),
    availabilityZone: z.string().optional(),
    launchType: z.string().optional(),
    capacityProviderName: z.string().optional(),
    containerInstanceArn: z.string().optional(),
    version: z.number().int().nonnegative(),
    attachments: z
      .array(
        z
          .object({
            type: z.string().optional(),
            status: z.string().optional(),
            details: z.array(z.object({ name: z.string(), value: z.string() }).loose()).optional(),
          })
          .loose(),
      )
      .optional(),
    containers: z.array(containerSchema).optional(),
    updatedAt: z.string().optional(),
  })
  .loose();

export type EcsTaskDetail = z.output<typeof ecsTaskDetailSchema>;

export function parseEcsTaskDetail(event: EventEnvelope): EcsTaskDetail {
  const parsed = ecsTaskDetailSchema.safeParse(event.detail);
  if (!parsed.success) {
    const problems = toProblems(parsed.error).map((p) => `detail.${p.path}: ${p.message}`);
    throw new LifecycleEventError(event.id, `invalid ECS task state change: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** ecsServiceOfTask reads the ECS service name from the task's group (`service:NAME`); standalone tasks have none. */
export function ecsServiceOfTask(detail: EcsTaskDetail): string | undefined {
  const group = detail.group ?? '';
  return group.startsWith('service:') ? group.slice('service:'.length) : undefined;
}

const stoppingStatuses = new Set(['DEACTIVATING', 'STOPPING', 'DEPROVISIONING']);
const startingStatuses = new Set(['PROVISIONING', 'PENDING', 'ACTIVATING']);

/**
 * taskPhase decides what an ECS task state means for traffic:
 * - STOPPED: the task is gone, remove it;
 * - desired STOPPED while still up, or already deactivating: drain it (finish in-flight, no new);
 * - RUNNING: healthy, or unhealthy when its health check says so;
 * - still starting: not an endpoint yet (nothing to do).
 */
export function taskPhase(detail: EcsTaskDetail): 'remove' | 'starting' | EndpointHealth {
  if (detail.lastStatus === 'STOPPED') return 'remove';
  if (detail.desiredStatus === 'STOPPED' || stoppingStatuses.has(detail.lastStatus)) return 'draining';
  if (startingStatuses.has(detail.lastStatus)) return 'starting';
  if (detail.lastStatus !== 'RUNNING') return 'starting';
  return detail.healthStatus === 'UNHEALTHY' ? 'unhealthy' : 'healthy';
}

/** awsvpcAddress is the task's ENI address: from the ENI attachment, else a container's interface. */
export function awsvpcAddress(detail: EcsTaskDetail): string | undefined {
  for (const attachment of detail.attachments ?? []) {
    if (attachment.type !== 'eni' && attachment.type !== 'ElasticNetworkInterface') continue;
    const ip = attachment.details?.find((d) => d.name === 'privateIPv4Address')?.value;
    if (ip) return ip;
  }
  for (const c of detail.containers ?? []) {
    const ip = c.networkInterfaces?.find((n) => n.privateIpv4Address)?.privateIpv4Address;
    if (ip) return ip;
  }
  return undefined;
}

/** hostBinding finds, in bridge or host mode, the host port the Envoy sidecar's inbound port is published on. */
export function hostBinding(detail: EcsTaskDetail, containerPort: number): { hostPort: number; bindIP?: string } | undefined {
  for (const c of detail.containers ?? []) {
    for (const b of c.networkBindings ?? []) {
      if (b.containerPort === containerPort && b.hostPort) return { hostPort: b.hostPort, bindIP: b.bindIP };
    }
  }
  return undefined;
}

/** taskLabels are what routing can select on: task definition family and revision, capacity provider, zone. */
export function taskLabels(detail: EcsTaskDetail): Record<string, string> {
  const labels: Record<string, string> = {};
  const family = /:task-definition\/([^:]+):(\d+)$/.exec(detail.taskDefinitionArn);
  if (family) {
    labels.family = family[1]!;
    labels.revision = family[2]!;
  }
  const provider = detail.capacityProviderName ?? detail.launchType;
  if (provider) labels.capacityProvider = provider;
  if (detail.availabilityZone) labels.zone = detail.availabilityZone;
  return labels;
}

/** Resolves a container instance ARN to its private IP (bridge/host tasks on EC2). */
export type ContainerInstanceResolver = (clusterArn: string, containerInstanceArn: string) => Promise<string>;

/**
 * endpointChangeOfTask turns one task state change into the change it means for the mesh
 * service's endpoints, or undefined when the task is not (yet) an endpoint.
 */
export async function endpointChangeOfTask(
  event: EventEnvelope,
  detail: EcsTaskDetail,
  spec: ServiceSpec,
  resolveContainerInstance?: ContainerInstanceResolver,
): Promise<EndpointChange | undefined> {
  const source: Endpoint['source'] = {
    kind: 'ecs-task',
    eventId: event.id,
    eventTime: event.time,
    orderingKey: detail.version,
  };
  const phase = taskPhase(detail);
  if (phase === 'starting') return undefined;
  if (phase === 'remove') return { kind: 'remove', service: spec.name, id: detail.taskArn, source };

  let address = awsvpcAddress(detail);
  let port = spec.inboundPort;
  if (!address) {
    const binding = hostBinding(detail, spec.inboundPort);
    if (!binding) {
      throw new LifecycleEventError(
        event.id,
        `task ${detail.taskArn} has no ENI address and no network binding for the Envoy port ${spec.inboundPort}`,
      );
    }
    port = binding.hostPort;
    if (binding.bindIP && binding.bindIP !== '0.0.0.0' && binding.bindIP !== '::') {
      address = binding.bindIP;
    } else {
      if (!detail.containerInstanceArn || !resolveContainerInstance) {
        throw new LifecycleEventError(event.id, `task ${detail.taskArn} runs in bridge/host mode but names no container instance`);
      }
      address = await resolveContainerInstance(detail.clusterArn, detail.containerInstanceArn);
    }
  }
  const endpoint: Endpoint = {
    service: spec.name,
    id: detail.taskArn,
    address,
    port,
    ...(detail.availabilityZone ? { zone: detail.availabilityZone } : {}),
    health: phase,
    labels: taskLabels(detail),
    source,
  };
  return { kind: 'upsert', endpoint };
}
