import { InstanceDescription, InstanceDirectory, InstanceInventory } from '../../../shared/lifecycle/ports';
import type { AutoScalingApi } from './autoscaling';

/** Ec2Instance is what the mesh reads of a DescribeInstances instance (the SDK's Instance has these fields among many). */
export interface Ec2Instance {
  readonly InstanceId?: string;
  readonly InstanceType?: string;
  readonly State?: { readonly Name?: string };
  readonly PrivateIpAddress?: string;
  readonly Placement?: { readonly AvailabilityZone?: string };
  readonly Tags?: readonly { readonly Key?: string; readonly Value?: string }[];
}

export interface DescribeInstancesInput {
  readonly InstanceIds?: string[];
  readonly Filters?: { Name: string; Values: string[] }[];
  readonly MaxResults?: number;
  readonly NextToken?: string;
}

export interface DescribeInstancesPage {
  readonly Reservations?: readonly { readonly Instances?: readonly Ec2Instance[] }[];
  readonly NextToken?: string;
}

/**
 * DescribeInstancesApi is the one EC2 call the functions make. In the bundles it is the signed
 * Query request of ec2-describe-instances.ts (the SDK's EC2 client is about 550 KB); tests
 * adapt the SDK's client to it (test/support/sdk-ec2.ts) and mock that at the SDK boundary.
 * A failure throws an error named by EC2's code, as the SDK's do.
 */
export interface DescribeInstancesApi {
  describeInstances(input: DescribeInstancesInput): Promise<DescribeInstancesPage>;
}

const notFound = new Set(['InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed']);

/** toInstanceDescription reads the fields the mesh uses from a DescribeInstances result. */
export function toInstanceDescription(instance: Ec2Instance, lifecycleState?: string): InstanceDescription {
  const tags: Record<string, string> = {};
  for (const tag of instance.Tags ?? []) if (tag.Key) tags[tag.Key] = tag.Value ?? '';
  return {
    instanceId: instance.InstanceId ?? '',
    state: instance.State?.Name ?? 'unknown',
    ...(instance.PrivateIpAddress ? { privateIp: instance.PrivateIpAddress } : {}),
    ...(instance.Placement?.AvailabilityZone ? { zone: instance.Placement.AvailabilityZone } : {}),
    ...(instance.InstanceType ? { instanceType: instance.InstanceType } : {}),
    tags,
    ...(lifecycleState ? { lifecycleState } : {}),
  };
}

/**
 * Ec2Instances looks instances up with DescribeInstances. Tags and state change, so nothing is
 * cached here; the instance listing adds each Auto Scaling member's lifecycle state, which
 * says whether a running instance is in service or waiting to terminate.
 */
export class Ec2Instances implements InstanceDirectory, InstanceInventory {
  constructor(
    private readonly ec2: DescribeInstancesApi,
    private readonly autoScaling?: Pick<AutoScalingApi, 'describeAutoScalingInstances'>,
  ) {}

  async describeInstance(instanceId: string): Promise<InstanceDescription | undefined> {
    try {
      const out = await this.ec2.describeInstances({ InstanceIds: [instanceId] });
      const instance = out.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
      if (!instance) return undefined;
      // A member of an Auto Scaling group: its lifecycle state says whether it is in service yet.
      const grouped = instance.Tags?.some((t) => t.Key === 'aws:autoscaling:groupName') ?? false;
      const states = grouped ? await this.lifecycleStates([instanceId]) : new Map<string, string>();
      return toInstanceDescription(instance, states.get(instanceId));
    } catch (err) {
      if (err instanceof Error && notFound.has(err.name)) return undefined;
      throw err;
    }
  }

  async confirmGone(instanceIds: readonly string[]): Promise<ReadonlySet<string>> {
    const gone = new Set<string>();
    for (const id of instanceIds) {
      const instance = await this.describeInstance(id);
      if (!instance || ['stopping', 'stopped', 'shutting-down', 'terminated'].includes(instance.state)) gone.add(id);
    }
    return gone;
  }

  async listTaggedInstances(tagKey: string): Promise<InstanceDescription[]> {
    // Each page is cut down to what the reconciler reads as it comes: a fleet of 100,000
    // instances is not held as SDK objects (kilobytes each), only as descriptions.
    const described: InstanceDescription[] = [];
    const grouped: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.ec2.describeInstances({
        Filters: [{ Name: 'tag-key', Values: [tagKey] }],
        MaxResults: 1000,
        ...(nextToken ? { NextToken: nextToken } : {}),
      });
      for (const instance of (out.Reservations ?? []).flatMap((r) => r.Instances ?? [])) {
        if (!instance.InstanceId) continue;
        described.push(toInstanceDescription(instance, undefined));
        if (instance.Tags?.some((t) => t.Key === 'aws:autoscaling:groupName')) grouped.push(instance.InstanceId);
      }
      nextToken = out.NextToken;
    } while (nextToken);
    const states = await this.lifecycleStates(grouped);
    if (states.size === 0) return described;
    return described.map((d) => (states.has(d.instanceId) ? { ...d, lifecycleState: states.get(d.instanceId)! } : d));
  }

  /** lifecycleStates asks Auto Scaling for its members' states, 50 ids per call (the API's limit). */
  private async lifecycleStates(instanceIds: string[]): Promise<Map<string, string>> {
    const states = new Map<string, string>();
    if (!this.autoScaling) return states;
    for (let i = 0; i < instanceIds.length; i += 50) {
      let nextToken: string | undefined;
      do {
        const out = await this.autoScaling.describeAutoScalingInstances({
          InstanceIds: instanceIds.slice(i, i + 50),
          MaxRecords: 50,
          ...(nextToken ? { NextToken: nextToken } : {}),
        });
        for (const a of out?.AutoScalingInstances ?? []) if (a.InstanceId && a.LifecycleState) states.set(a.InstanceId, a.LifecycleState);
        nextToken = out?.NextToken;
      } while (nextToken);
    }
    return states;
  }
}
