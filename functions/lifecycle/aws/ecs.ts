import { BoundedCache } from '../../../shared/lifecycle/bounded-cache';
import { ClusterTaskListing, ContainerInstanceDirectory, EcsTaskInventory } from '../../../shared/lifecycle/ports';
import type { DescribeInstancesApi } from './ec2';

/** EcsTask is a task as DescribeTasks returns it, its dates as ISO strings (as in events); EcsTasks reads only `taskArn` and `lastStatus` itself. */
export type EcsTask = { readonly taskArn?: string; readonly lastStatus?: string } & Record<string, unknown>;

/**
 * EcsApi is the ECS calls the functions make. In the bundles they are the signed JSON requests
 * of ecs-json.ts (the SDK's ECS client is about 25 KB of the lifecycle and reconciler bundles);
 * tests adapt the SDK's client to it (test/support/sdk-ecs.ts) and mock that at the SDK boundary.
 */
export interface EcsApi {
  describeContainerInstances(input: { cluster: string; containerInstances: string[] }): Promise<{
    readonly containerInstances?: readonly { readonly containerInstanceArn?: string; readonly ec2InstanceId?: string }[];
  }>;
  listTasks(input: { cluster: string; desiredStatus: 'RUNNING'; maxResults: number; nextToken?: string }): Promise<{ readonly taskArns?: readonly string[]; readonly nextToken?: string }>;
  describeTasks(input: { cluster: string; tasks: string[] }): Promise<{
    readonly tasks?: readonly EcsTask[];
    readonly failures?: readonly { readonly arn?: string; readonly reason?: string }[];
  }>;
}

/**
 * EcsContainerInstances resolves a container instance to its EC2 instance's private IP
 * (DescribeContainerInstances, then DescribeInstances). Both links are immutable while the
 * container instance exists, so answers are cached per Lambda container, bounded.
 */
export class EcsContainerInstances implements ContainerInstanceDirectory {
  private readonly cache: BoundedCache<string, string>;

  constructor(
    private readonly ecs: Pick<EcsApi, 'describeContainerInstances'>,
    private readonly ec2: DescribeInstancesApi,
    cacheSize = 10_000,
  ) {
    this.cache = new BoundedCache(cacheSize);
  }

  async privateIpOf(clusterArn: string, containerInstanceArn: string): Promise<string | undefined> {
    const key = `${clusterArn} ${containerInstanceArn}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const out = await this.ecs.describeContainerInstances({ cluster: clusterArn, containerInstances: [containerInstanceArn] });
    const instanceId = out.containerInstances?.find((c) => c.containerInstanceArn === containerInstanceArn)?.ec2InstanceId;
    if (!instanceId) return undefined;
    let ip: string | undefined;
    try {
      const described = await this.ec2.describeInstances({ InstanceIds: [instanceId] });
      ip = described.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId)?.PrivateIpAddress;
    } catch (err) {
      if (err instanceof Error && err.name === 'InvalidInstanceID.NotFound') return undefined;
      throw err;
    }
    if (ip) this.cache.set(key, ip);
    return ip;
  }
}

/**
 * EcsTasks lists the running tasks of an ECS cluster for the reconciler: ListTasks (paginated)
 * and DescribeTasks, 100 at a time (the API's limit). DescribeTasks returns a task in the
 * same shape as an event's detail, dates aside, which become ISO strings as in events.
 */
export class EcsTasks implements EcsTaskInventory {
  constructor(private readonly ecs: Pick<EcsApi, 'listTasks' | 'describeTasks'>) {}

  async listClusterTasks(cluster: string): Promise<ClusterTaskListing> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.ecs.listTasks({ cluster, desiredStatus: 'RUNNING', maxResults: 100, ...(nextToken ? { nextToken } : {}) });
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    const tasks: Record<string, unknown>[] = [];
    const undescribed: string[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await this.ecs.describeTasks({ cluster, tasks: arns.slice(i, i + 100) });
      for (const task of out.tasks ?? []) tasks.push(JSON.parse(JSON.stringify(task)) as Record<string, unknown>);
      for (const failure of out.failures ?? []) if (failure.arn) undescribed.push(failure.arn);
    }
    return { tasks, undescribed };
  }

  async confirmGone(cluster: string, taskArns: readonly string[]): Promise<ReadonlySet<string>> {
    const gone = new Set<string>();
    for (let i = 0; i < taskArns.length; i += 100) {
      const out = await this.ecs.describeTasks({ cluster, tasks: taskArns.slice(i, i + 100) });
      for (const task of out.tasks ?? []) if (task.taskArn && task.lastStatus === 'STOPPED') gone.add(task.taskArn);
      for (const failure of out.failures ?? []) if (failure.arn && failure.reason === 'MISSING') gone.add(failure.arn);
    }
    return gone;
  }
}
