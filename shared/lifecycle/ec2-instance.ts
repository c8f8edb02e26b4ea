import * as z from '../model/zod';
import { Endpoint, EndpointChange, EndpointHealth } from '../model/endpoint';
import { port as portSchema, ServiceSpec } from '../model/spec';
import { toProblems } from '../model/spec';
import { EventEnvelope, LifecycleEventError } from './envelope';
import { InstanceDescription } from './ports';

export const ec2InstanceStateChange = { source: 'aws.ec2', detailType: 'EC2 Instance State-change Notification' } as const;

/** The EC2 instance states, in lifecycle order: their rank breaks ties between events of the same second. */
export const instanceStates = ['pending', 'running', 'stopping', 'stopped', 'shutting-down', 'terminated'] as const;
export type InstanceState = (typeof instanceStates)[number];

/** The detail of an `EC2 Instance State-change Notification`: only the instance and its new state. */
export const ec2InstanceDetailSchema = z.looseObject({
  'instance-id': z.string().check(z.regex(/^i-[0-9a-f]{8,32}$/, 'must be an EC2 instance id (i-…)')),
  state: z.enum(instanceStates),
});

export type Ec2InstanceDetail = z.output<typeof ec2InstanceDetailSchema>;

export function parseEc2InstanceDetail(event: EventEnvelope): Ec2InstanceDetail {
  const parsed = ec2InstanceDetailSchema.safeParse(event.detail);
  if (!parsed.success) {
    const problems = toProblems(parsed.error).map((p) => `detail.${p.path}: ${p.message}`);
    throw new LifecycleEventError(event.id, `invalid EC2 instance state change: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The tag that overrides the port an instance's Envoy listens on (default: the spec's inboundPort). */
export const meshPortTagKey = 'mesh:port';

/**
 * instanceOrderingKey orders an instance's states: EC2 has no per-instance version, so the
 * event time (whole seconds in EventBridge) decides, and within one second the lifecycle
 * rank does (`running` then `stopping` in the same second must end as stopping).
 */
export function instanceOrderingKey(time: string | number, rank: number): number {
  const ms = typeof time === 'number' ? time : Date.parse(time);
  return ms * 8 + rank;
}

export const instanceStateRank = (state: InstanceState): number => instanceStates.indexOf(state);

/**
 * terminalOrderingKey is the ordering key of a terminated instance's tombstone. An instance id
 * is never reused, so nothing may follow termination: not a late `running`, not the
 * `shutting-down` that EC2 reports after an Auto Scaling hook already removed the endpoint.
 */
export const terminalOrderingKey = Number.MAX_SAFE_INTEGER;

/** instancePhase decides what an EC2 state means for traffic. */
export function instancePhase(state: string): 'starting' | 'remove' | EndpointHealth {
  switch (state) {
    case 'running':
      return 'healthy';
    case 'stopping':
    case 'shutting-down':
      return 'draining';
    case 'stopped':
    case 'terminated':
      return 'remove';
    default:
      return 'starting';
  }
}

/** meshServiceOfInstance reads the mesh service an instance belongs to from its tag. */
export function meshServiceOfInstance(instance: InstanceDescription, tagKey: string): string | undefined {
  const value = instance.tags[tagKey]?.trim();
  return value ? value : undefined;
}

/** instanceLabels are what routing can select on: zone, instance type, Auto Scaling group. */
export function instanceLabels(instance: InstanceDescription): Record<string, string> {
  const labels: Record<string, string> = {};
  if (instance.zone) labels.zone = instance.zone;
  if (instance.instanceType) labels.instanceType = instance.instanceType;
  const group = instance.tags['aws:autoscaling:groupName'];
  if (group) labels.autoScalingGroup = group;
  return labels;
}

export interface InstanceObservation {
  readonly instance: InstanceDescription;
  readonly spec: ServiceSpec;
  readonly phase: 'remove' | EndpointHealth;
  readonly source: Endpoint['source'];
}

/**
 * endpointChangeOfInstance turns an observed instance state into an endpoint change. A live
 * endpoint needs the instance's private IP and a valid port (the `mesh:port` tag, else the
 * spec's inboundPort); without them the observation cannot be applied and is rejected.
 */
export function endpointChangeOfInstance(o: InstanceObservation): EndpointChange {
  const { instance, spec, source } = o;
  if (o.phase === 'remove') return { kind: 'remove', service: spec.name, id: instance.instanceId, source };
  if (!instance.privateIp) {
    throw new LifecycleEventError(source.eventId, `instance ${instance.instanceId} has no private IP address`);
  }
  const endpoint: Endpoint = {
    service: spec.name,
    id: instance.instanceId,
    address: instance.privateIp,
    port: instancePort(source.eventId, instance, spec),
    ...(instance.zone ? { zone: instance.zone } : {}),
    health: o.phase,
    labels: instanceLabels(instance),
    source,
  };
  return { kind: 'upsert', endpoint };
}

function instancePort(eventId: string, instance: InstanceDescription, spec: ServiceSpec): number {
  const raw = instance.tags[meshPortTagKey];
  if (raw === undefined) return spec.inboundPort;
  const parsed = portSchema.safeParse(Number(raw));
  if (!/^\d+$/.test(raw.trim()) || !parsed.success) {
    throw new LifecycleEventError(eventId, `instance ${instance.instanceId} has tag ${meshPortTagKey}="${raw}", which is not a port from 1 to 65535`);
  }
  return parsed.data;
}
