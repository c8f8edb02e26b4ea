import * as z from '../model/zod';
import { Endpoint, EndpointChange, EndpointHealth } from '../model/endpoint';
import { ServiceSpec } from '../model/spec';
import { EventEnvelope, LifecycleEventError } from './envelope';
import { ContainerInstanceDirectory } from './ports';
import { toProblems } from '../model/spec';

export const ecsTaskStateChange = { source: 'aws.ecs', detailType: 'ECS Task State Change' } as const;

const taskStatus = z.string().check(z.minLength(1, 'must name a task status')); // PROVISIONING … STOPPED; new ones may appear

const containerSchema = z.looseObject({
  name: z.string(),
  lastStatus: z.optional(z.string()),
  healthStatus: z.optional(z.string()),
  networkBindings: z.optional(
    z.array(
      z.looseObject({
        containerPort: z.optional(z.number().check(z.int())),
        hostPort: z.optional(z.number().check(z.int())),
        bindIP: z.optional(z.string()),
      }),
    ),
  ),
  networkInterfaces: z.optional(z.array(z.looseObject({ privateIpv4Address: z.optional(z.string()), ipv6Address: z.optional(z.string()) }))),
});

/** The parts of an `ECS Task State Change` detail we use (AWS documents many more). */
export const ecsTaskDetailSchema = z.looseObject({
  taskArn: z.string().check(z.minLength(1)),
  clusterArn: z.string().check(z.minLength(1)),
  group: z.optional(z.string()),
  taskDefinitionArn: z.string().check(z.minLength(1)),
  lastStatus: taskStatus,
  desiredStatus: taskStatus,
  healthStatus: z.optional(z.string()),
  availabilityZone: z.optional(z.string()),
  launchType: z.optional(z.string()),
  capacityProviderName: z.optional(z.string()),
  containerInstanceArn: z.optional(z.string()),
  version: z.number().check(z.int(), z.nonnegative()),
  attachments: z.optional(
    z.array(
      z.looseObject({
        type: z.optional(z.string()),
        status: z.optional(z.string()),
        details: z.optional(z.array(z.looseObject({ name: z.string(), value: z.string() }))),
      }),
    ),
  ),
  containers: z.optional(z.array(containerSchema)),
  updatedAt: z.optional(z.string()),
});

export type EcsTaskDetail = z.output<typeof ecsTaskDetailSchema>;

export function parseEcsTaskDetail(event: EventEnvelope): EcsTaskDetail {
  return parseTaskDescription(event.id, event.detail, 'invalid ECS task state change');
}

/** parseTaskDescription checks a task in the event detail shape (DescribeTasks returns the same fields). */
export function parseTaskDescription(originId: string, raw: unknown, what = 'invalid ECS task'): EcsTaskDetail {
  const parsed = ecsTaskDetailSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = toProblems(parsed.error).map((p) => `detail.${p.path}: ${p.message}`);
    throw new LifecycleEventError(originId, `${what}: ${problems.join('; ')}`);
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
 * - still starting (even if already asked to stop): not an endpoint yet, nothing to do;
 * - desired STOPPED while still up, or already deactivating: drain it (finish in-flight, no new);
 * - RUNNING: healthy, or unhealthy when its health check says so (UNKNOWN: no check, or not
 *   evaluated yet, counts as healthy, as ECS itself does for tasks without a health check).
 */
export function taskPhase(detail: EcsTaskDetail): 'remove' | 'starting' | EndpointHealth {
  if (detail.lastStatus === 'STOPPED') return 'remove';
  // A task stopped before it ever ran was never an endpoint: nothing to drain.
  if (startingStatuses.has(detail.lastStatus)) return 'starting';
  if (detail.desiredStatus === 'STOPPED' || stoppingStatuses.has(detail.lastStatus)) return 'draining';
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

/** Deployment is where this control plane runs: tasks of other accounts or regions are not its fleet. */
export interface Deployment {
  readonly account?: string;
  readonly region?: string;
}

/** clusterArnParts reads `arn:<partition>:ecs:<region>:<account>:cluster/<name>`. */
export function clusterArnParts(arn: string): { partition: string; region: string; account: string; name: string } | undefined {
  const m = /^arn:([a-z-]+):ecs:([a-z0-9-]+):(\d{12}):cluster\/([A-Za-z0-9_-]+)$/.exec(arn);
  return m ? { partition: m[1]!, region: m[2]!, account: m[3]!, name: m[4]! } : undefined;
}

/**
 * foreignTaskReason says why a task does not belong to a mesh service's fleet, or undefined
 * when it does. An ECS service name alone is not an identity: a task of a dev cluster, or of
 * another account whose events are forwarded here, can carry the same `service:<name>` group.
 * So a task must run in the deployment's account and region and, when the spec names its
 * cluster (`ecs.cluster`, a name or an ARN), in that cluster. Without `ecs.cluster`, any
 * cluster of the deployment's account and region is accepted (name it in production).
 */
export function foreignTaskReason(detail: EcsTaskDetail, spec: ServiceSpec, deployment: Deployment = {}): string | undefined {
  const cluster = clusterArnParts(detail.clusterArn);
  if (!cluster) return `task ${detail.taskArn} names no ECS cluster ARN ("${detail.clusterArn}")`;
  if (deployment.account && cluster.account !== deployment.account) {
    return `task ${detail.taskArn} runs in account ${cluster.account}, not in this control plane's account ${deployment.account}`;
  }
  if (deployment.region && cluster.region !== deployment.region) {
    return `task ${detail.taskArn} runs in region ${cluster.region}, not in this control plane's region ${deployment.region}`;
  }
  const wanted = spec.ecs?.cluster;
  if (wanted === undefined) return undefined;
  const matches = wanted.startsWith('arn:') ? wanted === detail.clusterArn : wanted === cluster.name;
  return matches ? undefined : `task ${detail.taskArn} runs in cluster ${cluster.name}, and ${spec.name}'s ecs.cluster is ${wanted}`;
}

/** ChangeOrigin says who observed a task state: an EventBridge event, or a reconciler run. */
export interface ChangeOrigin {
  readonly kind: 'ecs-task' | 'reconciler';
  /** The event id, or the reconciler run id. */
  readonly id: string;
  readonly time: string;
}

/**
 * endpointChangeOfTask turns one observed task state into the change it means for the mesh
 * service's endpoints, or undefined when the task is not (yet) an endpoint. The ordering key
 * is the task's own `version`, whoever observed it, so events and reconciler cannot fight.
 * Throws a LifecycleEventError (naming `origin.id`) when the task's address cannot be found.
 */
export async function endpointChangeOfTask(
  origin: ChangeOrigin,
  detail: EcsTaskDetail,
  spec: ServiceSpec,
  containerInstances?: ContainerInstanceDirectory,
): Promise<EndpointChange | undefined> {
  const source: Endpoint['source'] = {
    kind: origin.kind,
    eventId: origin.id,
    eventTime: origin.time,
    orderingKey: detail.version,
  };
  const phase = taskPhase(detail);
  if (phase === 'starting') return undefined;
  if (phase === 'remove') return { kind: 'remove', service: spec.name, id: detail.taskArn, source };

  const { address, port } = await taskAddress(origin, detail, spec, containerInstances);
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

/**
 * taskAddress finds where a task's Envoy listens. awsvpc tasks (Fargate, EC2) have their own
 * ENI and listen on the spec's inboundPort; bridge and host tasks publish the Envoy's
 * container port (the inboundPort) on a host port of their container instance.
 */
async function taskAddress(
  origin: ChangeOrigin,
  detail: EcsTaskDetail,
  spec: ServiceSpec,
  containerInstances?: ContainerInstanceDirectory,
): Promise<{ address: string; port: number }> {
  const eni = awsvpcAddress(detail);
  if (eni) return { address: eni, port: spec.inboundPort };
  const binding = hostBinding(detail, spec.inboundPort);
  if (!binding) {
    throw new LifecycleEventError(
      origin.id,
      `task ${detail.taskArn} has no ENI address and no network binding for the Envoy port ${spec.inboundPort}`,
    );
  }
  if (binding.bindIP && binding.bindIP !== '0.0.0.0' && binding.bindIP !== '::') {
    return { address: binding.bindIP, port: binding.hostPort };
  }
  if (!detail.containerInstanceArn) {
    throw new LifecycleEventError(origin.id, `task ${detail.taskArn} runs in bridge/host mode but names no container instance`);
  }
  if (!containerInstances) {
    throw new LifecycleEventError(
      origin.id,
      `task ${detail.taskArn} runs in bridge/host mode, and no ECS/EC2 lookup is configured to resolve container instance ${detail.containerInstanceArn}`,
    );
  }
  const address = await containerInstances.privateIpOf(detail.clusterArn, detail.containerInstanceArn);
  if (!address) {
    throw new LifecycleEventError(
      origin.id,
      `container instance ${detail.containerInstanceArn} of task ${detail.taskArn} has no private IP (not found in ECS/EC2)`,
    );
  }
  return { address, port: binding.hostPort };
}
