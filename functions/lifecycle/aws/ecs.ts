import { DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand } from '@aws-sdk/client-ecs';
import { BoundedCache } from '../../../shared/lifecycle/bounded-cache';
import { ClusterTaskListing, ContainerInstanceDirectory, EcsTaskInventory } from '../../../shared/lifecycle/ports';
import type { DescribeInstancesApi } from './ec2';

/**
 * EcsContainerInstances resolves a container instance to its EC2 instance's private IP
 * (DescribeContainerInstances, then DescribeInstances). Both links are immutable while the
 * container instance exists, so answers are cached per Lambda container, bounded.
 */
export class EcsContainerInstances implements ContainerInstanceDirectory {
  private readonly cache: BoundedCache<string, string>;

  constructor(
    private readonly ecs: ECSClient,
    private readonly ec2: DescribeInstancesApi,
    cacheSize = 10_000,
  ) {
    this.cache = new BoundedCache(cacheSize);
  }

  async privateIpOf(clusterArn: string, containerInstanceArn: string): Promise<string | undefined> {
    const key = `${clusterArn} ${containerInstanceArn}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const out = await this.ecs.send(
      new DescribeContainerInstancesCommand({ cluster: clusterArn, containerInstances: [containerInstanceArn] }),
    );
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
  constructor(private readonly ecs: ECSClient) {}

  async listClusterTasks(cluster: string): Promise<ClusterTaskListing> {
    const arns: string[] = [];
    let nextToken: string | undefined;
    do {
      const out = await this.ecs.send(new ListTasksCommand({ cluster, desiredStatus: 'RUNNING', maxResults: 100, nextToken }));
      arns.push(...(out.taskArns ?? []));
      nextToken = out.nextToken;
    } while (nextToken);
    const tasks: Record<string, unknown>[] = [];
    const undescribed: string[] = [];
    for (let i = 0; i < arns.length; i += 100) {
      const out = await this.ecs.send(new DescribeTasksCommand({ cluster, tasks: arns.slice(i, i + 100) }));
      for (const task of out.tasks ?? []) tasks.push(JSON.parse(JSON.stringify(task)) as Record<string, unknown>);
      for (const failure of out.failures ?? []) if (failure.arn) undescribed.push(failure.arn);
    }
    return { tasks, undescribed };
  }

  async confirmGone(cluster: string, taskArns: readonly string[]): Promise<ReadonlySet<string>> {
    const gone = new Set<string>();
    for (let i = 0; i < taskArns.length; i += 100) {
      const out = await this.ecs.send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + 100) }));
      for (const task of out.tasks ?? []) if (task.taskArn && task.lastStatus === 'STOPPED') gone.add(task.taskArn);
      for (const failure of out.failures ?? []) if (failure.arn && failure.reason === 'MISSING') gone.add(failure.arn);
    }
    return gone;
  }
}
